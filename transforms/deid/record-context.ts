import type { DeidContext } from '../types.js';
import { compileDeidRules, DEFAULT_DEID_RULES } from './compile.js';
import type { CompiledDeidRules } from './compile.js';
import { dateOffsetDays, NO_PATIENT } from './date-shift.js';
import { deriveFieldKeys } from './field-crypto.js';
import type { FieldKeys } from './field-crypto.js';
import { createTextScrubber, emptyKnownIdentifiers } from './free-text.js';
import type { KnownIdentifiers, TextScrubber } from './free-text.js';

/** What applying rules to one record (HL7 message, resource or document) needs. */
export interface RecordDeid {
  compiled: CompiledDeidRules;
  pseudonymKey: Uint8Array;
  referenceYear: number;
  /** The patient's date offset in days. */
  readonly offsetDays: number;
  fieldKeys(): FieldKeys;
  scrubber(): TextScrubber;
}

/**
 * Compiled rules for a context, from the worker's cache.
 *
 * @param ctx - key, rules and reference year
 */
export function compiledRulesOf(ctx: DeidContext): CompiledDeidRules {
  return compileDeidRules(ctx.rules ?? DEFAULT_DEID_RULES, ctx.rules ? ctx.rulesHash : 'default');
}

/**
 * Sets up one record's de-identification.
 *
 * @param ctx - key, rules and reference year
 * @param patientPseudonym - the patient's `patient-id` pseudonym, or undefined when unknown
 * @param known - identifiers from the record's structured fields, for free text
 */
export function createRecordDeid(
  ctx: DeidContext,
  patientPseudonym: string | undefined,
  known: KnownIdentifiers = emptyKnownIdentifiers(),
): RecordDeid {
  const compiled = compiledRulesOf(ctx);
  let scrubber: TextScrubber | undefined;
  let offsetDays: number | undefined;
  return {
    compiled,
    pseudonymKey: ctx.pseudonymKey,
    referenceYear: ctx.referenceYear ?? new Date().getUTCFullYear(),
    // Many records have no date to shift; the HMAC behind the offset is computed on first use.
    get offsetDays(): number {
      offsetDays ??= dateOffsetDays(
        ctx.pseudonymKey,
        patientPseudonym ?? NO_PATIENT,
        compiled.rules.dateShiftRangeDays,
      );
      return offsetDays;
    },
    fieldKeys: () => cachedFieldKeys(ctx.pseudonymKey),
    scrubber: () => (scrubber ??= createTextScrubber(known, compiled.scrubOptions)),
  };
}

let lastKey: Uint8Array | undefined;
let lastFieldKeys: FieldKeys | undefined;

// Tasks bring their own copy of the key; comparing bytes saves two HKDF runs per record.
function cachedFieldKeys(pseudonymKey: Uint8Array): FieldKeys {
  if (lastKey === undefined || !Buffer.from(lastKey).equals(pseudonymKey)) {
    lastKey = new Uint8Array(pseudonymKey);
    lastFieldKeys = deriveFieldKeys(pseudonymKey);
  }
  return lastFieldKeys as FieldKeys;
}
