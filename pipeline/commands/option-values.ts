import { InvalidArgumentError } from 'commander';

/** What each parser made here accepts, in words that name the option and never a value. */
const acceptedValues = new WeakMap<object, string>();

/**
 * Returns a commander argument parser for an option that takes a whole number in a range. A
 * value outside it is a usage error (`CLI_USAGE`, exit code 2) before the command opens
 * anything, instead of a default or a clamp that hides the typo.
 *
 * @param optionName - the option as typed, such as `--limit`, for the message
 * @param min - the smallest value accepted
 * @param max - the largest value accepted; no bound but a safe integer when not given
 */
export function wholeNumberOption(
  optionName: string,
  min: number,
  max?: number,
): (value: string) => number {
  const accepted =
    max === undefined
      ? `${optionName} takes a whole number, ${min} or more`
      : `${optionName} takes a whole number from ${min} to ${max}`;
  const parse = (value: string): number => {
    const parsed = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || (max !== undefined && parsed > max)) {
      throw new InvalidArgumentError(accepted);
    }
    return parsed;
  };
  acceptedValues.set(parse, accepted);
  return parse;
}

/**
 * Returns what an option parser made by this module accepts, such as `--limit takes a whole
 * number from 1 to 1000`, so a refusal can say it without the value commander puts before it.
 *
 * @param parser - an option's `parseArg`
 */
export function acceptedValuesOf(parser: object): string | undefined {
  return acceptedValues.get(parser);
}
