import type { z } from 'zod';

/*
 * One describer for the validation problems of the files an operator writes (feeds.json, rules
 * files): each problem is its path in the file and a short text built from the issue's code and
 * from what the schema expects. zod's own messages are not used: some quote the input.
 */

/** Texts for issues whose meaning only the schema's owner knows. */
export interface IssueTexts {
  /** A value that matches none of a union's options: what the options are. */
  union?: string;
  /** A record key that the key schema refuses: what a key must be. */
  recordKey?: string;
}

/**
 * Describes validation issues as `path: text` lines, one per unknown key
 * (`feeds.lab.acceptBatchCountMismach: unknown key`) so each misspelling is placed like any other
 * problem. The root is `(root)`.
 *
 * @param issues - the issues of a failed `safeParse`
 * @param texts - what to say for a union or record key the schema's owner describes
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  texts: IssueTexts = {},
): string[] {
  return issues.flatMap((issue) => describeIssueAt(issue, texts));
}

/**
 * Describes one issue as one or more `path: text` lines (more for several unknown keys).
 *
 * @param issue - a zod issue
 * @param texts - what to say for a union or record key the schema's owner describes
 */
export function describeIssueAt(issue: z.core.$ZodIssue, texts: IssueTexts = {}): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${[...issue.path, key].join('.')}: unknown key`);
  }
  return [`${issue.path.join('.') || '(root)'}: ${describeIssue(issue, texts)}`];
}

/**
 * Describes one issue without its path and without quoting the value: `required`,
 * `expected boolean`, `expected one of gzip, brotli`, `must be at most 9`.
 *
 * @param issue - a zod issue
 * @param texts - what to say for a union or record key the schema's owner describes
 */
export function describeIssue(issue: z.core.$ZodIssue, texts: IssueTexts = {}): string {
  switch (issue.code) {
    case 'custom':
      // Our own refinements' messages: written never to carry a value.
      return issue.message;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${String(issue.values[0])}`
        : `expected one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_union':
      return texts.union ?? 'matches none of the allowed forms';
    case 'invalid_key':
      return texts.recordKey ?? 'not an allowed key';
    case 'invalid_type':
      // zod's message names the input's type, never its value: "..., received undefined".
      return issue.message.endsWith('received undefined')
        ? 'required'
        : `expected ${issue.expected}`;
    case 'too_small':
    case 'too_big':
      return describeLimit(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_format':
      return issue.format === 'regex'
        ? 'does not have the expected form'
        : `expected ${issue.format}`;
    default:
      return issue.code;
  }
}

/**
 * Names the limit a value broke, from the schema: `must be at least 1`, `must be at most 3650`,
 * `must not be empty`, `must be at most 500 characters long`.
 *
 * @param issue - a `too_small` or `too_big` issue
 */
export function describeLimit(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = String(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'number':
    case 'int':
    case 'bigint':
      if (small) {
        return inclusive ? `must be at least ${limit}` : `must be greater than ${limit}`;
      }
      return inclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
    case 'string':
      if (small && limit === '1') {
        return 'must not be empty';
      }
      return `must be ${small ? 'at least' : 'at most'} ${limit} characters long`;
    case 'array':
    case 'set':
      return `must have ${small ? 'at least' : 'at most'} ${limit} items`;
    default:
      return small ? `too small (at least ${limit})` : `too large (at most ${limit})`;
  }
}
