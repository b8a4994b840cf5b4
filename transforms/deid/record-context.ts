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
 * @param compiled - the context's compiled rules, when the caller has them already
 */
export function createRecordDeid(
  ctx: DeidContext,
  patientPseudonym: string | undefined,
  known: KnownIdentifiers = emptyKnownIdentifiers(),
  compiled: CompiledDeidRules = compiledRulesOf(ctx),
): RecordDeid {
  return new RecordState(ctx, patientPseudonym, known, compiled);
}

// A class rather than an object of closures: one is made per record, and under tsx every named
// closure costs a `defineProperty` for its name.
class RecordState implements RecordDeid {
  readonly compiled: CompiledDeidRules;
  readonly pseudonymKey: Uint8Array;
  readonly referenceYear: number;
  private readonly patientPseudonym: string | undefined;
  private readonly known: KnownIdentifiers;
  private offset: number | undefined;
  private textScrubber: TextScrubber | undefined;

  constructor(
    ctx: DeidContext,
    patientPseudonym: string | undefined,
    known: KnownIdentifiers,
    compiled: CompiledDeidRules,
  ) {
    this.compiled = compiled;
    this.pseudonymKey = ctx.pseudonymKey;
    this.referenceYear = ctx.referenceYear ?? new Date().getUTCFullYear();
    this.patientPseudonym = patientPseudonym;
    this.known = known;
  }

  // Many records have no date to shift; the offset is looked up on first use.
  get offsetDays(): number {
    this.offset ??= dateOffsetDays(
      this.pseudonymKey,
      this.patientPseudonym ?? NO_PATIENT,
      this.compiled.rules.dateShiftRangeDays,
    );
    return this.offset;
  }

  fieldKeys(): FieldKeys {
    return cachedFieldKeys(this.pseudonymKey);
  }

  scrubber(): TextScrubber {
    this.textScrubber ??= createTextScrubber(this.known, this.compiled.scrubOptions);
    return this.textScrubber;
  }
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
