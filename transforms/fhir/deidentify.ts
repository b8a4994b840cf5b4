import { pseudonymize } from '../pseudonym.js';
import type { PseudonymNamespace } from '../pseudonym.js';
import type { DeidContext } from '../types.js';
import {
  DROPPED_EXTENSION_VALUES,
  DROPPED_EXTENSIONS,
  elementRulesFor,
  KEPT_ADDRESS_ELEMENTS,
  NESTED_IDENTIFIER_ELEMENTS,
  zip3,
} from './deid-rules.js';
import type { ElementRule } from './deid-rules.js';
import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import {
  collectIdentityMap,
  IDENTITY_RESOURCE_TYPES,
  pseudonymizeResourceId,
  rewriteReference,
} from './references.js';
import type { IdentityMap } from './references.js';

/** What `deidentifyResource` needs to know about where a resource came from. */
export interface DeidOptions {
  /** The document's map from `collectIdentityMap`; without it `urn:` references stay unresolved. */
  identityMap?: IdentityMap;
  /** The Bundle entry's `fullUrl`; gives an id-less Patient the pseudonym its references get. */
  fullUrl?: string;
}

// date, dateTime and instant: https://hl7.org/fhir/R4/datatypes.html#primitive
const FHIR_DATE = /^\d{4}-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?$/;

// Far deeper than any real resource; a guard against crafted input exhausting the stack.
const MAX_DEPTH = 256;

/** What every step of the walk needs. */
interface Walk {
  pseudonymKey: Uint8Array;
  identityMap: IdentityMap;
  /** Inside a person resource every date is about that person, so only its year may stay. */
  yearOnlyDates: boolean;
}

class DepthLimitError extends Error {
  override name = 'DepthLimitError';
}

const DROP = Symbol('drop');

/**
 * Returns a de-identified copy of a resource: a first cut of HIPAA Safe Harbor, driven by the
 * tables in `deid-rules.ts`. Patient, RelatedPerson and Person lose names, contact points, photos
 * and address parts smaller than a state; every date in them keeps only its year; their
 * identifiers and their own id become keyed pseudonyms. Every resource loses its narrative and
 * any name or contact point extension; references to those persons are rewritten to the
 * pseudonymous id so they still join; other identifiers are pseudonymised too. Contained and
 * nested resources get the same rules. The input is not modified.
 *
 * @param resource - a parsed resource
 * @param ctx - the pseudonym key
 * @param options - the document's identity map and the resource's `fullUrl`, when from a Bundle
 * @returns the de-identified copy, or `undefined` when the input is not a resource or nests too
 *   deeply; count that as `DEID_FAILED`
 */
export function deidentifyResource(
  resource: unknown,
  ctx: DeidContext,
  options: DeidOptions = {},
): unknown {
  if (!isJsonObject(resource) || typeof resource.resourceType !== 'string') {
    return undefined;
  }

  const walk: Walk = {
    pseudonymKey: ctx.pseudonymKey,
    identityMap: options.identityMap ?? new Map(),
    yearOnlyDates: false,
  };
  try {
    return deidResource(resource, walk, { fullUrl: options.fullUrl, contained: false }, 0);
  } catch (error) {
    if (error instanceof DepthLimitError) {
      return undefined;
    }
    throw error;
  }
}

function deidResource(
  resource: JsonObject,
  outer: Walk,
  place: { fullUrl: string | undefined; contained: boolean },
  depth: number,
): JsonObject {
  if (depth > MAX_DEPTH) {
    throw new DepthLimitError('Resource nests deeper than the de-identification limit');
  }
  const resourceType = String(resource.resourceType);
  const walk: Walk = {
    ...outer,
    identityMap: resourceType === 'Bundle' ? withNestedEntries(resource, outer) : outer.identityMap,
    yearOnlyDates: IDENTITY_RESOURCE_TYPES.has(resourceType),
  };
  const rules = elementRulesFor(resourceType);
  // Contained ids are local to their container (`#p1`) and identify nothing outside it.
  const replacesId = rules.id === 'resource-id' && !place.contained;
  const pseudonymId = replacesId ? pseudonymousIdOf(resource, walk, place.fullUrl) : undefined;
  const result: JsonObject = {};

  for (const [name, value] of Object.entries(resource)) {
    if (resourceType === 'Binary' && (name === 'data' || name === '_data')) {
      // A Binary's content is an embedded document; like Attachment.data it cannot be scrubbed.
      continue;
    } else if (name === 'id' && replacesId) {
      setIfDefined(result, name, pseudonymId);
    } else if (name === 'contained' && Array.isArray(value)) {
      const inside = { fullUrl: undefined, contained: true };
      result.contained = value
        .filter(isJsonObject)
        .map((item) => deidResource(item, walk, inside, depth + 1));
    } else if (name === 'meta') {
      // Meta dates (lastUpdated) are about the record, not the person, and must stay instants.
      setIfNotDropped(result, name, deidValue(value, { ...walk, yearOnlyDates: false }, depth + 1));
    } else {
      setIfNotDropped(result, name, applyRule(rules[name], value, walk, depth + 1));
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
  rule: ElementRule | undefined,
  value: unknown,
  walk: Walk,
  depth: number,
): unknown {
  switch (rule) {
    case 'drop':
      return DROP;
    case 'year':
      return typeof value === 'string' && /^\d{4}/.test(value) ? value.slice(0, 4) : DROP;
    case 'address':
      return mapItems(value, (address) => deidAddress(address, walk, depth));
    case 'contact':
      return mapItems(value, (contact) => deidContact(contact, walk, depth));
    case 'identifier-patient':
      return mapItems(value, (identifier) => deidIdentifier(identifier, walk, 'patient-id', depth));
    case 'identifier-other':
      return mapItems(value, (identifier) => deidIdentifier(identifier, walk, 'other', depth));
    case 'patient-id':
      return typeof value === 'string'
        ? pseudonymize(walk.pseudonymKey, 'patient-id', value)
        : DROP;
    case 'bundle-entry':
      return mapItems(value, (entry) => deidBundleEntry(entry, walk, depth));
    default:
      return deidValue(value, walk, depth);
  }
}

function deidValue(value: unknown, walk: Walk, depth: number): unknown {
  if (depth > MAX_DEPTH) {
    throw new DepthLimitError('Resource nests deeper than the de-identification limit');
  }
  if (Array.isArray(value)) {
    return value.map((item) => deidValue(item, walk, depth + 1)).filter((item) => item !== DROP);
  }
  if (typeof value === 'string' && walk.yearOnlyDates && FHIR_DATE.test(value)) {
    return value.slice(0, 4);
  }
  if (!isJsonObject(value)) {
    return value;
  }

  if (typeof value.resourceType === 'string') {
    return deidResource(value, walk, { fullUrl: undefined, contained: false }, depth);
  }
  if (isReference(value)) {
    return deidReference(value, walk, depth);
  }
  if (typeof value.url === 'string') {
    return deidExtension(value, walk, depth);
  }
  return deidElement(value, walk, depth);
}

function deidElement(element: JsonObject, walk: Walk, depth: number): JsonObject {
  const result: JsonObject = {};
  const attachment = isAttachmentWithData(element);
  for (const [name, value] of Object.entries(element)) {
    if (attachment && (name === 'data' || name === '_data')) {
      continue;
    }
    const output = NESTED_IDENTIFIER_ELEMENTS.has(name)
      ? mapItems(value, (identifier) => deidIdentifier(identifier, walk, 'other', depth))
      : deidValue(value, walk, depth + 1);
    if (output !== DROP) {
      result[name] = output;
    }
  }
  if (attachment) {
    // Embedded documents cannot be scrubbed (Synthea notes name the patient), so the bytes go
    // and the attachment says why, with FHIR's own data-absent-reason code.
    const extension = Array.isArray(result.extension) ? result.extension : [];
    result.extension = [...extension, MASKED_DATA_EXTENSION];
  }
  return result;
}

const MASKED_DATA_EXTENSION: JsonObject = {
  url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason',
  valueCode: 'masked',
};

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
// name, stays until the free-text scrubber exists.
function isReference(value: JsonObject): boolean {
  if (typeof value.reference === 'string') {
    return true;
  }
  const labelled = typeof value.type === 'string' || typeof value.display === 'string';
  return isJsonObject(value.identifier) && labelled;
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
  const result: JsonObject = {};

  for (const [name, value] of Object.entries(reference)) {
    if (name === 'reference') {
      setIfDefined(result, name, rewritten.reference);
    } else if (name === 'display' || name === '_display') {
      if (!toPerson) {
        result[name] = value;
      }
    } else if (name === 'identifier') {
      const namespace = toPerson ? 'patient-id' : 'other';
      setIfNotDropped(result, name, deidIdentifier(value, walk, namespace, depth));
    } else {
      setIfNotDropped(result, name, deidValue(value, walk, depth + 1));
    }
  }
  return dropIfEmpty(result);
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
    return valueAddress === DROP ? DROP : { ...deidElement(extension, walk, depth), valueAddress };
  }
  return deidElement(extension, walk, depth);
}

function deidAddress(address: unknown, walk: Walk, depth: number): JsonObject | typeof DROP {
  if (!isJsonObject(address)) {
    return DROP;
  }
  const result: JsonObject = {};
  for (const [name, value] of Object.entries(address)) {
    if (KEPT_ADDRESS_ELEMENTS.has(name)) {
      result[name] = deidValue(value, walk, depth + 1);
    }
  }
  setIfDefined(result, 'postalCode', zip3(address.postalCode));
  return dropIfEmpty(result);
}

function deidContact(contact: unknown, walk: Walk, depth: number): unknown {
  if (!isJsonObject(contact)) {
    return DROP;
  }
  const result: JsonObject = {};
  for (const [name, value] of Object.entries(contact)) {
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
  const result: JsonObject = {};
  for (const [name, value] of Object.entries(identifier)) {
    if (name === 'value') {
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
      result.resource = deidResource(value, walk, { fullUrl, contained: false }, depth + 1);
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
  return Object.keys(element).length === 0 ? DROP : element;
}

function mapItems(value: unknown, map: (item: unknown) => unknown): unknown {
  if (!Array.isArray(value)) {
    return map(value);
  }
  return value.map(map).filter((item) => item !== DROP);
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
