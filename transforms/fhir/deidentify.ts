import { compiledRulesOf, createRecordDeid } from '../deid/record-context.js';
import type { RecordDeid } from '../deid/record-context.js';
import type { KnownIdentifiers } from '../deid/free-text.js';
import { pseudonymize } from '../pseudonym.js';
import type { PseudonymNamespace } from '../pseudonym.js';
import type { DeidContext } from '../types.js';
import {
  DATE_ELEMENTS,
  DROPPED_EXTENSION_VALUES,
  DROPPED_EXTENSIONS,
  elementRulesFor,
  FREE_TEXT_ELEMENTS,
  NESTED_IDENTIFIER_ELEMENTS,
} from './deid-rules.js';
import type { ElementRule } from './deid-rules.js';
import {
  encryptData,
  ENCRYPTED_EXTENSION_URL,
  foldAgeQuantity,
  generalizeAddress,
  generalizeValue,
  MASKED_DATA_EXTENSION,
  scrubNarrative,
  shiftDateBy,
} from './deid-values.js';
import { applyFhirPathRules, isHandled, REDACTED } from './fhirpath-rules.js';
import type { HandledNodes } from './fhirpath-rules.js';
import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { patientPseudonymOf } from './patient-key.js';
import type { PatientKeyMap } from './patient-key.js';
import {
  collectIdentityMap,
  IDENTITY_RESOURCE_TYPES,
  pseudonymizeResourceId,
  rewriteReference,
} from './references.js';
import type { IdentityMap } from './references.js';
import { knownOfResource } from './resource-known.js';
import { isR4ResourceType } from './resource-types.js';
import { isFhirDateForm } from './shift-date.js';

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
}

const HYPHEN = 0x2d;

// Resources outside a document resolve no urn: references; one empty map serves them all.
const NO_IDENTITIES: IdentityMap = new Map();
// An NDJSON line comes with no options and is no Bundle entry; these spare an object per line.
const NO_OPTIONS: DeidOptions = Object.freeze({});
// The element tables as maps, one per resource type: most names are in no table, and a map
// answers that fastest. A name with no rule gets its text kind in the same map when first met,
// so one lookup tells what to do with a top-level element; names come from the input, so each
// map stops growing at a bound.
const ELEMENT_RULE_MAPS = new Map<string, Map<string, TopLevelRule>>();
const MAX_RULE_MAPS = 256;
const MAX_TOP_LEVEL_NAMES = 1024;

/** A top-level element's rule, or the text kind of an element with none. */
type TopLevelRule = ElementRule | number;

// Far deeper than any real resource; a guard against crafted input exhausting the stack.
const MAX_DEPTH = 256;

// What an element's name says about its value, below the top level.
const PLAIN = 0;
const FREE_TEXT = 1;
const NARRATIVE_DIV = 2;
const NESTED_IDENTIFIER = 3;
const DATE_ELEMENT = 4;
const NAME_KINDS: ReadonlyMap<string, number> = new Map([
  ...[...FREE_TEXT_ELEMENTS].map(
    (name) => [name, name === 'div' ? NARRATIVE_DIV : FREE_TEXT] as const,
  ),
  ...[...NESTED_IDENTIFIER_ELEMENTS].map((name) => [name, NESTED_IDENTIFIER] as const),
  ...[...DATE_ELEMENTS].map((name) => [name, DATE_ELEMENT] as const),
]);

// Every name the walk has met, with its kind: a feed uses a few hundred element names, and one
// lookup then answers what a table lookup and three suffix tests did. Names come from the input,
// so the map stops growing at a bound; names past it are worked out each time.
const KNOWN_NAME_KINDS = new Map<string, number>(NAME_KINDS);
const MAX_KNOWN_NAMES = 4096;

/** What an element's name says about its value: a table, then the `…Date(Time)` suffixes. */
function kindOfName(name: string): number {
  const known = KNOWN_NAME_KINDS.get(name);
  if (known !== undefined) {
    return known;
  }
  const kind =
    name.endsWith('DateTime') || name.endsWith('Date') || name.endsWith('Instant')
      ? DATE_ELEMENT
      : PLAIN;
  if (KNOWN_NAME_KINDS.size < MAX_KNOWN_NAMES) {
    KNOWN_NAME_KINDS.set(name, kind);
  }
  return kind;
}

/** What every step of the walk needs. */
interface Walk {
  pseudonymKey: Uint8Array;
  identityMap: IdentityMap;
  /** The record's offset, scrubber and keys. */
  record: RecordDeid;
  /** What the preset does with dates, addresses and free text. */
  policy: FhirPolicy;
  /** Elements the feed's FHIRPath rules already decided. */
  handled: HandledNodes | undefined;
}

/** The preset's choices the walk applies. */
interface FhirPolicy {
  shiftDates: boolean;
  generalizeBirthDates: boolean;
  address: 'address-state' | 'address-town';
  foldAges: boolean;
}

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

class DepthLimitError extends Error {
  override name = 'DepthLimitError';
}

const DROP = Symbol('drop');

/**
 * Returns a de-identified copy of a resource under the context's rules (the safe-harbor preset
 * when it has none). The feed's FHIRPath rules run first; then the preset's walk: Patient,
 * RelatedPerson and Person lose names, contact points, photos and address parts smaller than a
 * state; their identifiers and own id become keyed pseudonyms; birth and death keep their year
 * (90 or older folded into one); every other date moves by the patient's offset; free text
 * (narrative, Annotation and CodeableConcept text, string values) is scrubbed; references to
 * persons are rewritten to the pseudonymous id so they still join; embedded documents are
 * dropped with a `masked` marker or encrypted. Contained and nested resources get the same
 * rules. The input is not modified; what no rule changes is shared with it rather than copied,
 * so the result is to be serialised, not edited.
 *
 * The patient whose offset applies: a Patient's MR identifier (else its first identifier, else
 * its id); for other resources the Patient their subject, patient or beneficiary reference names,
 * resolved through `options.patientKeys` when the document holds it, else the pseudonymised
 * reference id. See `patient-key.ts`.
 *
 * @param resource - a parsed resource
 * @param ctx - the pseudonym key, the feed's rules and the reference year for ages
 * @param options - the document's maps and the resource's `fullUrl`, when from a Bundle
 * @returns the de-identified copy, or `undefined` when the input is not a resource or nests too
 *   deeply; count that as `DEID_FAILED`
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
    const walk: Walk = {
      pseudonymKey: ctx.pseudonymKey,
      identityMap: options.identityMap ?? NO_IDENTITIES,
      record,
      policy:
        compiled.rules.preset === 'limited-data-set' ? LIMITED_DATA_SET_POLICY : SAFE_HARBOR_POLICY,
      handled,
    };
    return deidResource(input, walk, options.fullUrl, false, 0);
  } catch (error) {
    if (error instanceof DepthLimitError || error instanceof RangeError) {
      return undefined;
    }
    throw error;
  }
}

function topLevelRuleOf(rules: Map<string, TopLevelRule>, name: string): TopLevelRule {
  const known = rules.get(name);
  if (known !== undefined) {
    return known;
  }
  const kind = textKindOf(name);
  if (rules.size < MAX_TOP_LEVEL_NAMES) {
    rules.set(name, kind);
  }
  return kind;
}

function elementRuleMapFor(resourceType: string): Map<string, TopLevelRule> {
  let rules = ELEMENT_RULE_MAPS.get(resourceType);
  if (rules === undefined) {
    rules = new Map<string, TopLevelRule>(Object.entries(elementRulesFor(resourceType)));
    // Resource types come from the input; unknown ones are not kept.
    if (ELEMENT_RULE_MAPS.size < MAX_RULE_MAPS && isR4ResourceType(resourceType)) {
      ELEMENT_RULE_MAPS.set(resourceType, rules);
    }
  }
  return rules;
}

// `fullUrl` is the Bundle entry's; `contained` tells a resource inside another's `contained`.
function deidResource(
  resource: JsonObject,
  outer: Walk,
  fullUrl: string | undefined,
  contained: boolean,
  depth: number,
): JsonObject {
  if (depth > MAX_DEPTH) {
    throw new DepthLimitError('Resource nests deeper than the de-identification limit');
  }
  const resourceType = String(resource.resourceType);
  const walk: Walk =
    resourceType === 'Bundle'
      ? { ...outer, identityMap: withNestedEntries(resource, outer) }
      : outer;
  const rules = elementRuleMapFor(resourceType);
  // Contained ids are local to their container (`#p1`) and identify nothing outside it.
  const replacesId = rules.get('id') === 'resource-id' && !contained;
  const pseudonymId = replacesId ? pseudonymousIdOf(resource, walk, fullUrl) : undefined;
  const result: JsonObject = {};

  for (const name in resource) {
    const value = resource[name];
    if (walk.handled !== undefined && isHandled(walk.handled, resource, name)) {
      setIfNotDropped(result, name, copyDecided(value));
    } else if (resourceType === 'Binary' && (name === 'data' || name === '_data')) {
      // A Binary's content is an embedded document; like Attachment.data it cannot be scrubbed.
      if (name === 'data' && typeof value === 'string') {
        setEmbeddedBinary(result, value, walk);
      }
    } else if (name === 'id' && replacesId) {
      setIfDefined(result, name, pseudonymId);
    } else if (name === 'contained' && Array.isArray(value)) {
      result.contained = value
        .filter(isJsonObject)
        .map((item) => deidResource(item, walk, undefined, true, depth + 1));
    } else {
      const output = applyRule(topLevelRuleOf(rules, name), name, value, walk, depth + 1);
      if (output !== DROP) {
        result[name] = output;
      }
    }
  }

  // A Patient created in a transaction has no id; it gets the one its urn:uuid references get.
  if (result.id === undefined) {
    setIfDefined(result, 'id', pseudonymId);
  }
  return result;
}

function pseudonymousIdOf(
  resource: JsonObject,
  walk: Walk,
  fullUrl: string | undefined,
): string | undefined {
  const resourceType = String(resource.resourceType);
  const id = typeof resource.id === 'string' ? resource.id : undefined;
  return pseudonymizeResourceId(walk.pseudonymKey, resourceType, id, fullUrl);
}

function applyRule(
  rule: TopLevelRule,
  name: string,
  value: unknown,
  walk: Walk,
  depth: number,
): unknown {
  if (typeof rule === 'number') {
    return deidValue(value, walk, depth, rule);
  }
  switch (rule) {
    case 'drop':
      return DROP;
    case 'year':
    case 'birth-year':
      if (!walk.policy.generalizeBirthDates) {
        return typeof value === 'string' ? value : DROP;
      }
      return generalizeValue(value, rule, walk.record) ?? DROP;
    case 'address':
      return mapItems(value, (address) => deidAddress(address, walk, depth));
    case 'contact':
      return mapItems(value, (contact) => deidContact(contact, walk, depth));
    case 'identifier-patient':
      return mapIdentifiers(value, walk, 'patient-id', depth);
    case 'identifier-other':
      return mapIdentifiers(value, walk, 'other', depth);
    case 'patient-id':
      return typeof value === 'string'
        ? pseudonymize(walk.pseudonymKey, 'patient-id', value)
        : DROP;
    case 'narrative':
      return isJsonObject(value) && value.status === 'generated'
        ? DROP
        : deidValue(value, walk, depth);
    case 'bundle-entry':
      return mapItems(value, (entry) => deidBundleEntry(entry, walk, depth));
    default:
      return deidValue(value, walk, depth, textKindOf(name));
  }
}

// `kind` is what the element's name says about a string value (or an array of them).
function deidValue(value: unknown, walk: Walk, depth: number, kind = PLAIN): unknown {
  if (depth > MAX_DEPTH) {
    throw new DepthLimitError('Resource nests deeper than the de-identification limit');
  }
  if (typeof value === 'string') {
    return deidString(value, walk, kind);
  }
  if (value === REDACTED) {
    return DROP;
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  if (Array.isArray(value)) {
    return deidArray(value, walk, depth, kind);
  }
  return deidObject(value as JsonObject, walk, depth);
}

// An object value (not an array), already checked against the depth limit.
function deidObject(element: JsonObject, walk: Walk, depth: number): unknown {
  if (walk.handled !== undefined && walk.handled.objects.has(element)) {
    return copyDecided(element);
  }
  // Most elements (a Coding, a Period, a Quantity) have none of the names that make an object a
  // resource, Reference, extension or attachment; their names say so without reading them.
  if (!hasMarkingName(element)) {
    return deidElement(element, walk, depth, false);
  }
  if (typeof element.resourceType === 'string') {
    return deidResource(element, walk, undefined, false, depth);
  }
  if (isReference(element)) {
    return deidReference(element, walk, depth);
  }
  if (typeof element.url === 'string') {
    return deidExtension(element, walk, depth);
  }
  return deidElement(element, walk, depth, isAttachmentWithData(element));
}

// Whether an object has one of the names `deidObject` reads to tell what it is. Property names
// from JSON.parse are internalised, so each comparison is one of references.
function hasMarkingName(element: JsonObject): boolean {
  for (const name in element) {
    if (
      name === 'resourceType' ||
      name === 'reference' ||
      name === 'identifier' ||
      name === 'url' ||
      name === 'data'
    ) {
      return true;
    }
  }
  return false;
}

// Elements are copied on write: one that nothing below changes is returned as it came.
// `attachment` tells an Attachment with embedded data, from `isAttachmentWithData`.
function deidElement(
  element: JsonObject,
  walk: Walk,
  depth: number,
  attachment: boolean,
): JsonObject {
  let result: JsonObject | undefined = attachment ? {} : undefined;
  // Only an element with a `system` can be an age to fold.
  let hasSystem = false;
  for (const name in element) {
    const value = element[name];
    hasSystem ||= name === 'system';
    let output: unknown;
    if (walk.handled !== undefined && isHandled(walk.handled, element, name)) {
      output = copyDecided(value);
    } else if (attachment && (name === 'data' || name === '_data')) {
      output = DROP;
    } else {
      // One lookup tells nested identifiers, free text and narrative from every other name.
      const kind = kindOfName(name);
      if (kind === NESTED_IDENTIFIER) {
        output = mapIdentifiers(value, walk, 'other', depth);
      } else if (typeof value === 'string' && depth < MAX_DEPTH) {
        // Most values are strings: no call into deidValue just to find that out.
        output = deidString(value, walk, kind);
      } else if (typeof value === 'object' && value !== null && depth < MAX_DEPTH) {
        // Then objects and arrays, straight to the walk that fits them.
        output = Array.isArray(value)
          ? deidArray(value, walk, depth + 1, kind)
          : deidObject(value as JsonObject, walk, depth + 1);
      } else {
        output = deidValue(value, walk, depth + 1, kind);
      }
    }
    if (result === undefined) {
      if (output === value && name !== '__proto__') {
        continue;
      }
      result = copyBefore(element, name);
    }
    if (output !== DROP) {
      result[name] = output;
    }
  }
  if (result === undefined) {
    return hasSystem && walk.policy.foldAges ? foldAgeQuantity(element) : element;
  }
  if (attachment) {
    // Embedded documents cannot be scrubbed (Synthea notes name the patient): the bytes go and
    // the attachment says why, with FHIR's own data-absent-reason code, or they stay encrypted.
    const extension = Array.isArray(result.extension) ? result.extension : [];
    if (walk.record.compiled.rules.embeddedDocuments === 'encrypt') {
      result.data = encryptData(String(element.data), 'fhir:Attachment.data', walk.record);
      result.extension = [...extension, { url: ENCRYPTED_EXTENSION_URL, valueCode: 'data' }];
    } else {
      result.extension = [...extension, MASKED_DATA_EXTENSION];
    }
  }
  return hasSystem && walk.policy.foldAges ? foldAgeQuantity(result) : result;
}

// Dates move by the patient's offset; free-text elements are scrubbed. A date element whose
// value is not a FHIR date (`11/30/2026`, written by a sender that ignored the format) cannot be
// shifted, so it goes rather than pass as sent; a year alone is kept, as Safe Harbor allows.
function deidString(value: string, walk: Walk, kind: number): string | typeof DROP {
  // Every date starts `YYYY-`; the character check spares the full check most strings.
  if (walk.policy.shiftDates && value.charCodeAt(4) === HYPHEN) {
    if (
      value === recentDates.last.value ||
      value === recentDates.other.value ||
      isFhirDateForm(value)
    ) {
      return shiftDate(value, walk.record.offsetDays);
    }
  }
  if (kind === DATE_ELEMENT) {
    return !walk.policy.shiftDates || YEAR_ONLY.test(value) ? value : DROP;
  }
  if (kind === FREE_TEXT) {
    return walk.record.scrubber().scrub(value);
  }
  return kind === NARRATIVE_DIV ? scrubNarrative(value, walk.record) : value;
}

function textKindOf(name: string): number {
  const kind = kindOfName(name);
  return kind === FREE_TEXT || kind === NARRATIVE_DIV || kind === DATE_ELEMENT ? kind : PLAIN;
}

const YEAR_ONLY = /^\d{4}$/;

// The last two dates shifted and what they gave: a patient's resources repeat their time stamps
// (an Encounter's start is its Observations' effective time), so the next date is usually one of
// them. Only dates in form are remembered, so a value found here is one.
// One constant holder rather than module-level `let`s.
const recentDates = {
  last: { value: '', offsetDays: 0, shifted: '' },
  other: { value: '', offsetDays: 0, shifted: '' },
};

function shiftDate(value: string, offsetDays: number): string {
  const { last, other } = recentDates;
  if (value === last.value && offsetDays === last.offsetDays) {
    return last.shifted;
  }
  if (value === other.value && offsetDays === other.offsetDays) {
    return other.shifted;
  }
  const shifted = shiftDateBy(value, offsetDays);
  // The older entry makes way.
  recentDates.other = last;
  recentDates.last = other;
  other.value = value;
  other.offsetDays = offsetDays;
  other.shifted = shifted;
  return shifted;
}

function setEmbeddedBinary(result: JsonObject, data: string, walk: Walk): void {
  if (walk.record.compiled.rules.embeddedDocuments === 'encrypt') {
    result.data = encryptData(data, 'fhir:Binary.data', walk.record);
    result.extension = [{ url: ENCRYPTED_EXTENSION_URL, valueCode: 'data' }];
  }
}

// What a FHIRPath rule decided is copied as it is, less what it removed.
function copyDecided(value: unknown): unknown {
  if (value === REDACTED) {
    return DROP;
  }
  return Array.isArray(value) ? value.filter((item) => item !== REDACTED) : value;
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

// Attachment.data is base64Binary beside contentType, url, size, hash, title or creation;
// SampledData.data (a string of numbers beside origin and period) is not an attachment.
function isAttachmentWithData(element: JsonObject): boolean {
  if (typeof element.data !== 'string' || 'origin' in element || 'period' in element) {
    return false;
  }
  return ['contentType', 'url', 'size', 'hash', 'title', 'creation', 'language'].some(
    (name) => name in element,
  );
}

// A literal reference, or a logical one: an Identifier with a type or display beside it.
// Limitation: a Reference holding only a display is not recognised; that display, possibly a
// name, stays unless it is free text the scrubber reads.
function isReference(value: JsonObject): boolean {
  if (typeof value.reference === 'string') {
    return true;
  }
  if (!isJsonObject(value.identifier)) {
    return false;
  }
  return typeof value.type === 'string' || typeof value.display === 'string';
}

// Reference.display of a person is usually the name, so it goes unless the target is known.
function deidReference(reference: JsonObject, walk: Walk, depth: number): unknown {
  const rewritten =
    typeof reference.reference === 'string'
      ? rewriteReference(reference.reference, walk.pseudonymKey, walk.identityMap)
      : { reference: undefined, targetType: undefined };
  const targetType =
    rewritten.targetType ?? (typeof reference.type === 'string' ? reference.type : undefined);
  const toPerson = targetType === undefined || IDENTITY_RESOURCE_TYPES.has(targetType);
  let result: JsonObject | undefined;

  for (const name in reference) {
    const value = reference[name];
    let output: unknown;
    if (walk.handled !== undefined && isHandled(walk.handled, reference, name)) {
      output = copyDecided(value);
    } else if (name === 'reference') {
      output = rewritten.reference ?? DROP;
    } else if (name === 'display' || name === '_display') {
      output = toPerson ? DROP : value;
    } else if (name === 'identifier') {
      const namespace = toPerson ? 'patient-id' : 'other';
      output = deidIdentifier(value, walk, namespace, depth);
    } else {
      output = deidValue(value, walk, depth + 1);
    }
    if (result === undefined) {
      if (output === value && name !== '__proto__') {
        continue;
      }
      result = copyBefore(reference, name);
    }
    if (output !== DROP) {
      result[name] = output;
    }
  }
  return dropIfEmpty(result ?? reference);
}

function deidExtension(extension: JsonObject, walk: Walk, depth: number): unknown {
  const url = String(extension.url);
  if (DROPPED_EXTENSIONS.has(url)) {
    return DROP;
  }
  if (DROPPED_EXTENSION_VALUES.some((valueName) => valueName in extension)) {
    return DROP;
  }
  if (isJsonObject(extension.valueAddress)) {
    const valueAddress = deidAddress(extension.valueAddress, walk, depth);
    if (valueAddress === DROP) {
      return DROP;
    }
    return {
      ...deidElement(extension, walk, depth, isAttachmentWithData(extension)),
      valueAddress,
    };
  }
  return deidElement(extension, walk, depth, isAttachmentWithData(extension));
}

function deidAddress(address: unknown, walk: Walk, depth: number): JsonObject | typeof DROP {
  if (!isJsonObject(address)) {
    return DROP;
  }
  if (walk.handled?.objects.has(address)) {
    return address;
  }
  // An inline arrow: a named one costs a `defineProperty` per address under tsx (keepNames).
  return dropIfEmpty(
    generalizeAddress(address, walk.policy.address, (value) => deidValue(value, walk, depth + 1)),
  );
}

function deidContact(contact: unknown, walk: Walk, depth: number): unknown {
  if (!isJsonObject(contact)) {
    return DROP;
  }
  if (walk.handled?.objects.has(contact)) {
    return contact;
  }
  const result: JsonObject = {};
  for (const name in contact) {
    const value = contact[name];
    if (isHandled(walk.handled, contact, name)) {
      setIfNotDropped(result, name, copyDecided(value));
      continue;
    }
    if (name === 'name' || name === 'telecom') {
      continue;
    }
    const output =
      name === 'address' ? deidAddress(value, walk, depth) : deidValue(value, walk, depth + 1);
    setIfNotDropped(result, name, output);
  }
  return dropIfEmpty(result);
}

function deidIdentifier(
  identifier: unknown,
  walk: Walk,
  namespace: PseudonymNamespace,
  depth: number,
): unknown {
  if (!isJsonObject(identifier)) {
    return DROP;
  }
  if (walk.handled?.objects.has(identifier)) {
    return identifier;
  }
  const result: JsonObject = {};
  for (const name in identifier) {
    const value = identifier[name];
    if (walk.handled !== undefined && isHandled(walk.handled, identifier, name)) {
      setIfNotDropped(result, name, copyDecided(value));
    } else if (name === 'value') {
      if (typeof value === 'string') {
        result.value = pseudonymize(walk.pseudonymKey, namespace, value);
      }
    } else if (name !== '_value' && name !== 'extension') {
      setIfNotDropped(result, name, deidValue(value, walk, depth + 1));
    }
  }
  return result;
}

// A nested Bundle keeps its entries; their URLs and searches can name a person.
function deidBundleEntry(entry: unknown, walk: Walk, depth: number): unknown {
  if (!isJsonObject(entry)) {
    return DROP;
  }
  const result: JsonObject = {};
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'fullUrl' && typeof value === 'string') {
      const rewritten = rewriteReference(value, walk.pseudonymKey, walk.identityMap);
      setIfDefined(result, name, rewritten.reference);
    } else if (name === 'resource' && isJsonObject(value)) {
      const fullUrl = typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined;
      result.resource = deidResource(value, walk, fullUrl, false, depth + 1);
    } else if (name !== 'request' && name !== 'response' && name !== 'search' && name !== 'link') {
      setIfNotDropped(result, name, deidValue(value, walk, depth + 1));
    }
  }
  return result;
}

// Entries of a nested Bundle resolve their urn:uuid references among themselves.
function withNestedEntries(bundle: JsonObject, walk: Walk): IdentityMap {
  if (!Array.isArray(bundle.entry)) {
    return walk.identityMap;
  }
  const entries = bundle.entry.filter(isJsonObject);
  const fullUrls = entries.map((entry) =>
    typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined,
  );
  const nested = collectIdentityMap(
    entries.map((entry) => entry.resource),
    fullUrls,
  );
  return new Map([...walk.identityMap, ...nested]);
}

// FHIR elements must hold a value or children; what de-identification empties goes entirely.
function dropIfEmpty(element: JsonObject): JsonObject | typeof DROP {
  // What Object.keys(element).length === 0 tells, without making the array.
  for (const name in element) {
    if (Object.hasOwn(element, name)) {
      return element;
    }
  }
  return DROP;
}

function mapItems(value: unknown, map: (item: unknown) => unknown): unknown {
  if (!Array.isArray(value)) {
    return map(value);
  }
  let result: unknown[] | undefined;
  for (let index = 0; index < value.length; index++) {
    const item: unknown = value[index];
    const output = map(item);
    if (result === undefined) {
      if (output === item) {
        continue;
      }
      result = value.slice(0, index);
    }
    if (output !== DROP) {
      result.push(output);
    }
  }
  return result ?? value;
}

// `mapItems` for identifiers, the most common case, without a closure per call.
function mapIdentifiers(
  value: unknown,
  walk: Walk,
  namespace: PseudonymNamespace,
  depth: number,
): unknown {
  if (!Array.isArray(value)) {
    return deidIdentifier(value, walk, namespace, depth);
  }
  let result: unknown[] | undefined;
  for (let index = 0; index < value.length; index++) {
    const item: unknown = value[index];
    const output = deidIdentifier(item, walk, namespace, depth);
    if (result === undefined) {
      if (output === item) {
        continue;
      }
      result = value.slice(0, index);
    }
    if (output !== DROP) {
      result.push(output);
    }
  }
  return result ?? value;
}

// An array is copied from its first changed or dropped item, like an element.
function deidArray(items: unknown[], walk: Walk, depth: number, kind: number): unknown[] {
  let result: unknown[] | undefined;
  for (let index = 0; index < items.length; index++) {
    const item: unknown = items[index];
    const output = deidValue(item, walk, depth + 1, kind);
    if (result === undefined) {
      if (output === item) {
        continue;
      }
      result = items.slice(0, index);
    }
    if (output !== DROP) {
      result.push(output);
    }
  }
  return result ?? items;
}

// The copy an element gets at its first change: the properties before it, which stayed as sent.
// `__proto__` never counts as unchanged, so a copy sets it the way the walk always has.
function copyBefore(element: JsonObject, stop: string): JsonObject {
  const copy: JsonObject = {};
  for (const name in element) {
    if (name === stop) {
      break;
    }
    copy[name] = element[name];
  }
  return copy;
}

function setIfDefined(target: JsonObject, name: string, value: unknown): void {
  if (value !== undefined) {
    target[name] = value;
  }
}

function setIfNotDropped(target: JsonObject, name: string, value: unknown): void {
  if (value !== DROP) {
    target[name] = value;
  }
}
