import { compiledRulesOf, createRecordDeid } from '../deid/record-context.js';
import type { KnownIdentifiers } from '../deid/free-text.js';
import type { DeidContext } from '../types.js';
import { deidResource } from './deid-element.js';
import { DepthLimitError } from './deid-walk.js';
import type { DeidCounts, FhirPolicy, Walk } from './deid-walk.js';
import { applyFhirPathRules, REDACTED } from './fhirpath-rules.js';
import type { HandledNodes } from './fhirpath-rules.js';
import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { patientPseudonymOf } from './patient-key.js';
import type { PatientKeyMap } from './patient-key.js';
import { resourceR4Type } from './r4-elements.js';
import type { IdentityMap } from './references.js';
import { knownOfResource } from './resource-known.js';

export type { DeidCounts };

/*
 * The entry of the FHIR preset's walk. The walk itself is in `deid-element.ts` (elements, by
 * rule and by kind), `deid-identity.ts` (identifiers, references, addresses, contacts),
 * `deid-text.ts` (dates and free text), `deid-typed.ts` (elements decided by their path or R4
 * type: any Address, a HumanName or ContactPoint outside staff resources, device identifiers, an
 * extension's number), `r4-elements.ts` (which elements R4 defines where) and `deid-walk.ts`
 * (what they share).
 */

/** What `deidentifyResource` needs to know about where a resource came from. */
export interface DeidOptions {
  /** The document's map from `collectIdentityMap`; without it `urn:` references stay unresolved. */
  identityMap?: IdentityMap;
  /** The Bundle entry's `fullUrl`; gives an id-less Patient the pseudonym its references get. */
  fullUrl?: string;
  /** The document's patients by reference, from `collectPatientKeys`; keys the date offset. */
  patientKeys?: PatientKeyMap;
  /** Identifiers the document's person resources carry, scrubbed from its free text. */
  known?: KnownIdentifiers;
  /** Added to as the preset's walk removes elements; one object can serve a whole task. */
  counts?: DeidCounts;
}

// Resources outside a document resolve no urn: references; one empty map serves them all.
const NO_IDENTITIES: IdentityMap = new Map();
// An NDJSON line comes with no options and is no Bundle entry; these spare an object per line.
const NO_OPTIONS: DeidOptions = Object.freeze({});
// What a caller that passes no counts would have been told.
const UNREAD_COUNTS: DeidCounts = { unknownElementsRemoved: 0 };

const SAFE_HARBOR_POLICY: FhirPolicy = {
  shiftDates: true,
  generalizeBirthDates: true,
  address: 'address-state',
  foldAges: true,
};

const LIMITED_DATA_SET_POLICY: FhirPolicy = {
  shiftDates: false,
  generalizeBirthDates: false,
  address: 'address-town',
  foldAges: false,
};

/**
 * Returns a de-identified copy of a resource under the context's rules (the safe-harbor preset
 * when it has none). The feed's FHIRPath rules run first; then the preset's walk: Patient,
 * RelatedPerson and Person lose names, contact points, photos and address parts smaller than a
 * state; their identifiers and own id become keyed pseudonyms; birth and death keep their year
 * (90 or older folded into one); every other date moves by the patient's offset; free text
 * (narrative, Annotation and CodeableConcept text, string values) is scrubbed; references to
 * persons are rewritten to the pseudonymous id so they still join; embedded documents are
 * dropped with a `masked` marker or encrypted. Contained and nested resources get the same
 * rules. An element FHIR R4 does not define where it sits (a top-level `ssn`, a
 * `HumanName.alias`, an extension's `valueFoo`, an `Observation.valueHumanName`, a contained
 * resource of no R4 type, a string where R4 has a Reference or a HumanName) is removed with all
 * it holds and counted in `options.counts`, since nothing says what it holds; the feed's
 * FHIRPath rules still decide what they select. The `none` preset removes nothing. The input is not modified; what no rule changes is shared with it
 * rather than copied, so the result is to be serialised, not edited.
 *
 * The patient whose offset applies: a Patient's MR identifier (else its first identifier, else
 * its id); for other resources the Patient their subject, patient or beneficiary reference names,
 * resolved through `options.patientKeys` when the document holds it, else the pseudonymised
 * reference id. See `patient-key.ts`.
 *
 * @param resource - a parsed resource
 * @param ctx - the pseudonym key, the feed's rules and the reference year for ages
 * @param options - the document's maps and the resource's `fullUrl`, when from a Bundle, and the
 *   counts to add to
 * @returns the de-identified copy, or `undefined` when the input is not a resource (of a type R4
 *   defines, unless the preset is `none`) or nests too deeply; count that as `DEID_FAILED`
 * @throws {FhirPathRuleError} when one of the feed's FHIRPath rules fails on the resource
 */
export function deidentifyResource(
  resource: unknown,
  ctx: DeidContext,
  options: DeidOptions = NO_OPTIONS,
): unknown {
  if (!isJsonObject(resource) || typeof resource.resourceType !== 'string') {
    return undefined;
  }
  const compiled = compiledRulesOf(ctx);
  if (!compiled.active) {
    return resource;
  }

  const patient = patientPseudonymOf(resource, ctx.pseudonymKey, options);
  // Outside a document (an NDJSON line), a person resource's own fields are what it knows.
  const known = options.known ?? knownOfResource(resource);
  const record = createRecordDeid(ctx, patient, known, compiled);
  try {
    let input = resource;
    let handled: HandledNodes | undefined;
    if (compiled.fhir.length > 0) {
      input = structuredClone(resource);
      handled = applyFhirPathRules(input, compiled.fhir, record);
    }
    if (compiled.rules.preset === 'none') {
      return handled === undefined ? input : stripRedacted(input);
    }
    const type = resourceR4Type(resource.resourceType);
    if (type === undefined) {
      return undefined;
    }
    const walk: Walk = {
      pseudonymKey: ctx.pseudonymKey,
      identityMap: options.identityMap ?? NO_IDENTITIES,
      record,
      policy:
        compiled.rules.preset === 'limited-data-set' ? LIMITED_DATA_SET_POLICY : SAFE_HARBOR_POLICY,
      handled,
      counts: options.counts ?? UNREAD_COUNTS,
    };
    return deidResource(input, type, walk, options.fullUrl, false, 0);
  } catch (error) {
    if (error instanceof DepthLimitError || error instanceof RangeError) {
      return undefined;
    }
    throw error;
  }
}

// The `none` preset runs only the feed's rules; their removals still have to go.
function stripRedacted(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.filter((item) => item !== REDACTED).map(stripRedacted);
  }
  if (!isJsonObject(value)) {
    return value;
  }
  const result: JsonObject = {};
  for (const [name, item] of Object.entries(value)) {
    if (item !== REDACTED) {
      result[name] = stripRedacted(item);
    }
  }
  return result;
}
