import { createHash } from 'node:crypto';

import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';

import { parseJsonText, stripByteOrderMark } from '../json-text.js';
import { describeIssues } from '../schema-issues.js';
import { parseHl7Selector } from './hl7-selector.js';

/*
 * A feed's de-identification rules as plain data: they travel to the workers inside every
 * transform task (structured clone), where `compileDeidRules` turns them into matchers once per
 * rules hash. Rules are tried in order and the first one that matches a field or element decides
 * what happens to it; the preset's rules come after the feed's own.
 */

/** The named starting points; `none` leaves records identified (still encrypted at rest). */
export type DeidPreset = 'safe-harbor' | 'limited-data-set' | 'none';

/** What `generalize` reduces a value to. */
export type GeneralizeTarget =
  /** ZIP to its first three digits, restricted areas to `000`. */
  | 'zip3'
  /** Address to state, three-digit ZIP, country and address type (Safe Harbor). */
  | 'address-state'
  /** Address to town, state, five-digit ZIP, country and address type (limited data set). */
  | 'address-town'
  /** A date to its year. */
  | 'year'
  /** A birth date to its year, with ages over 89 folded into one 90-or-older year. */
  | 'birth-year'
  /** An age in years, over 89 folded into 90. */
  | 'age';

/** One method and its parameters. */
export type DeidMethod =
  | { method: 'keep' }
  | { method: 'redact' }
  | { method: 'cryptoHash'; namespace?: HashNamespace; part?: 'whole' | 'id' }
  | { method: 'dateShift' }
  | { method: 'generalize'; to: GeneralizeTarget }
  | { method: 'substitute'; value: string }
  | { method: 'perturb'; span: number; roundTo?: number }
  | { method: 'encrypt' }
  | { method: 'scrub' }
  | { method: 'embeddedDocument' };

/** Pseudonym namespaces a rule may name; `patient-id` joins MRNs across formats. */
export type HashNamespace = 'patient-id' | 'account' | 'visit' | 'message' | 'other';

/** A rule: where (an HL7 selector or a FHIRPath expression) and what. */
export type DeidRule = DeidMethod & { path: string };

/** What the rules file may say, after validation. */
export interface DeidRulesFile {
  dateShift?: { rangeDays: number };
  embeddedDocuments?: 'drop' | 'encrypt';
  hl7?: DeidRule[];
  fhir?: DeidRule[];
}

/** The rules a transform task carries: the preset plus the feed's own rules and options. */
export interface DeidRules {
  preset: DeidPreset;
  /** Date offsets are drawn from `[-rangeDays, -1] ∪ [1, rangeDays]`. */
  dateShiftRangeDays: number;
  embeddedDocuments: 'drop' | 'encrypt';
  /** The feed's HL7 rules, tried before the preset's. */
  hl7: DeidRule[];
  /** The feed's FHIRPath rules, applied before the preset's element rules. */
  fhir: DeidRule[];
}

/** The outcome of reading a rules file: the rules, or every problem with its path. */
export type DeidRulesParseResult =
  { ok: true; rules: DeidRulesFile } | { ok: false; problems: string[] };

/** Default date shift range: up to a year either way. */
export const DEFAULT_DATE_SHIFT_RANGE_DAYS = 365;

const namespaceSchema = z.enum(['patient-id', 'account', 'visit', 'message', 'other']);

const methodSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('keep') }).strict(),
  z.object({ method: z.literal('redact') }).strict(),
  z
    .object({
      method: z.literal('cryptoHash'),
      namespace: namespaceSchema.optional(),
      part: z.enum(['whole', 'id']).optional(),
    })
    .strict(),
  z.object({ method: z.literal('dateShift') }).strict(),
  z
    .object({
      method: z.literal('generalize'),
      to: z.enum(['zip3', 'address-state', 'address-town', 'year', 'birth-year', 'age']),
    })
    .strict(),
  z.object({ method: z.literal('substitute'), value: z.string().max(256) }).strict(),
  z
    .object({
      method: z.literal('perturb'),
      span: z.number().positive().max(1),
      roundTo: z.number().int().min(0).max(6).optional(),
    })
    .strict(),
  z.object({ method: z.literal('encrypt') }).strict(),
  z.object({ method: z.literal('scrub') }).strict(),
  z.object({ method: z.literal('embeddedDocument') }).strict(),
]);

// Strict like the method objects: an intersection reports a key only when neither side declares
// it, so a misspelt parameter (`namespce`) fails instead of being dropped.
const pathSchema = z.object({ path: z.string().min(1).max(500) }).strict();

const hl7RuleSchema = z.intersection(pathSchema, methodSchema).superRefine((rule, context) => {
  try {
    parseHl7Selector(rule.path);
  } catch {
    context.addIssue({ code: 'custom', path: ['path'], message: 'Not an HL7 field selector' });
  }
});

const fhirRuleSchema = z.intersection(pathSchema, methodSchema);

const rulesFileSchema = z
  .object({
    dateShift: z
      .object({ rangeDays: z.number().int().min(1).max(3650) })
      .strict()
      .optional(),
    embeddedDocuments: z.enum(['drop', 'encrypt']).optional(),
    hl7: z.array(hl7RuleSchema).max(1000).optional(),
    fhir: z.array(fhirRuleSchema).max(1000).optional(),
  })
  .strict();

/**
 * Reads a rules file (JSON or YAML) and validates it. Problems name their path in the file
 * (`hl7.2.path: Not an HL7 field selector`) and never quote a value.
 *
 * @param text - the file's text
 * @param format - `json` or `yaml` (YAML also reads JSON)
 * @param checkFhirPath - compiles one FHIRPath expression, throwing when it is invalid
 */
export function parseDeidRulesFile(
  text: string,
  format: 'json' | 'yaml',
  checkFhirPath: (expression: string) => void,
): DeidRulesParseResult {
  let raw: unknown;
  if (format === 'json') {
    const parsed = parseJsonText(text);
    if (!parsed.ok) {
      return { ok: false, problems: [`(root): not valid JSON (${parsed.place})`] };
    }
    raw = parsed.value;
  } else {
    try {
      raw = parseYaml(stripByteOrderMark(text));
    } catch (error) {
      // The parser's message quotes the input; only the format and the place are named.
      return { ok: false, problems: [`(root): not valid YAML${yamlErrorPlace(error)}`] };
    }
  }

  const parsed = rulesFileSchema.safeParse(raw ?? {});
  const problems = parsed.success
    ? []
    : describeIssues(parsed.error.issues, { union: 'unknown method or parameters' });
  // Expressions are checked even when other parts of the file are wrong, so one run of the
  // check reports every problem.
  const fhir = (raw as { fhir?: unknown } | null | undefined)?.fhir;
  if (Array.isArray(fhir)) {
    fhir.forEach((rule: unknown, index) => {
      const path = (rule as { path?: unknown } | null | undefined)?.path;
      if (typeof path !== 'string' || path.length === 0 || path.length > 500) {
        return;
      }
      try {
        checkFhirPath(path);
      } catch {
        problems.push(`fhir.${index}.path: not a valid FHIRPath expression`);
      }
    });
  }
  if (!parsed.success || problems.length > 0) {
    return { ok: false, problems };
  }
  return { ok: true, rules: parsed.data as DeidRulesFile };
}

// ` (line 3, column 7: DUPLICATE_KEY)` from the YAML parser's position and code only.
function yamlErrorPlace(error: unknown): string {
  if (error instanceof YAMLParseError && error.linePos !== undefined) {
    const [start] = error.linePos;
    return ` (line ${start.line}, column ${start.col}: ${error.code})`;
  }
  return '';
}

/**
 * Combines a preset with a rules file into what transform tasks carry.
 *
 * @param preset - the feed's preset
 * @param file - the feed's rules file, if it has one
 */
export function resolveDeidRules(preset: DeidPreset, file: DeidRulesFile = {}): DeidRules {
  return {
    preset,
    dateShiftRangeDays: file.dateShift?.rangeDays ?? DEFAULT_DATE_SHIFT_RANGE_DAYS,
    embeddedDocuments: file.embeddedDocuments ?? 'drop',
    hl7: file.hl7 ?? [],
    fhir: file.fhir ?? [],
  };
}

/**
 * Hash of resolved rules: the worker cache key, and part of the feed settings hash a manifest
 * records.
 *
 * @param rules - resolved rules
 */
export function hashDeidRules(rules: DeidRules): string {
  return createHash('sha256').update(JSON.stringify(rules)).digest('hex').slice(0, 32);
}
