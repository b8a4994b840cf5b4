import { pseudonymize } from '../pseudonym.js';
import {
  deidAddress,
  deidBundleEntry,
  deidContact,
  deidExtension,
  deidReference,
  isReference,
  mapIdentifiers,
  withNestedEntries,
} from './deid-identity.js';
import { deidString } from './deid-text.js';
import { deidTyped } from './deid-typed.js';
import {
  encryptData,
  ENCRYPTED_EXTENSION_URL,
  foldAgeQuantity,
  generalizeValue,
  MASKED_DATA_EXTENSION,
} from './deid-values.js';
import {
  ADDRESS,
  copyBefore,
  copyDecided,
  DepthLimitError,
  DROP,
  dropMisplaced,
  dropNonObject,
  mapItems,
  MAX_DEPTH,
  NESTED_IDENTIFIER,
  PLAIN,
  setIfDefined,
  setIfNotDropped,
  textKindOf,
} from './deid-walk.js';
import type { TopLevelRule, Walk } from './deid-walk.js';
import { isHandled, REDACTED } from './fhirpath-rules.js';
import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { ANY_RESOURCE_TYPE, PRIMITIVE_TYPE, resourceR4Type, slotOf } from './r4-elements.js';
import type { R4Type } from './r4-elements.js';
import { pseudonymizeResourceId } from './references.js';

/*
 * The preset's walk over a resource: each top-level element by its rule from the tables, every
 * other value by what it is (a resource, a Reference, an extension, an attachment or a plain
 * element) and by what its name says. Every element name is looked up in the R4 type of the
 * object it sits in (`r4-elements.ts`); one R4 does not define there is removed and counted,
 * unless a feed's FHIRPath rule decided it, and so is a value of the wrong kind for its type: an
 * object where R4 has a primitive, a string, number or boolean where it has anything else.
 * Identifiers, references and a person's address and contacts are in `deid-identity.ts`, which
 * calls back into this walk for what they hold; the two import each other, and neither runs
 * anything of the other's when loaded.
 */

// `type` is the resource's R4 type; `fullUrl` is the Bundle entry's; `contained` tells a
// resource inside another's `contained`.
export function deidResource(
  resource: JsonObject,
  type: R4Type,
  outer: Walk,
  fullUrl: string | undefined,
  contained: boolean,
  depth: number,
): JsonObject {
  if (depth > MAX_DEPTH) {
    throw new DepthLimitError('Resource nests deeper than the de-identification limit');
  }
  const resourceType = type.path;
  const walk: Walk =
    resourceType === 'Bundle'
      ? { ...outer, identityMap: withNestedEntries(resource, outer) }
      : outer;
  // Contained ids are local to their container (`#p1`) and identify nothing outside it.
  const replacesId = slotOf(type, 'id')?.rule === 'resource-id' && !contained;
  const pseudonymId = replacesId ? pseudonymousIdOf(resource, walk, fullUrl) : undefined;
  const result: JsonObject = {};

  for (const name in resource) {
    const value = resource[name];
    if (walk.handled !== undefined && isHandled(walk.handled, resource, name)) {
      setIfNotDropped(result, name, copyDecided(value));
      continue;
    }
    const slot = slotOf(type, name);
    if (slot === null) {
      walk.counts.unknownElementsRemoved++;
    } else if (resourceType === 'Binary' && (name === 'data' || name === '_data')) {
      // A Binary's content is an embedded document; like Attachment.data it cannot be scrubbed.
      if (name === 'data' && typeof value === 'string') {
        setEmbeddedBinary(result, value, walk);
      }
    } else if (name === 'id' && replacesId) {
      setIfDefined(result, name, pseudonymId);
    } else if (name === 'contained' && Array.isArray(value)) {
      result.contained = deidContained(value, walk, depth + 1);
    } else {
      const output = applyRule(slot.rule, name, value, walk, depth + 1, slot.type);
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

// A resource where R4 has one of any type (`Bundle.entry.resource`, `Parameters.parameter
// .resource`), or `DROP` when it is of no type R4 defines: nothing says what such a one holds.
export function deidNestedResource(
  resource: JsonObject,
  walk: Walk,
  fullUrl: string | undefined,
  depth: number,
): JsonObject | typeof DROP {
  const type =
    typeof resource.resourceType === 'string' ? resourceR4Type(resource.resourceType) : undefined;
  if (type === undefined) {
    walk.counts.unknownElementsRemoved++;
    return DROP;
  }
  return deidResource(resource, type, walk, fullUrl, false, depth);
}

// `kind` is what the element's name says about a string value (or an array of them); `type` is
// the value's R4 type, which tells the names an object may hold.
export function deidValue(
  value: unknown,
  walk: Walk,
  depth: number,
  kind: number,
  type: R4Type,
): unknown {
  if (depth > MAX_DEPTH) {
    throw new DepthLimitError('Resource nests deeper than the de-identification limit');
  }
  // A string, number or boolean is a value only where R4 has a primitive type.
  if (typeof value === 'string') {
    return type === PRIMITIVE_TYPE ? deidString(value, walk, kind) : dropMisplaced(walk);
  }
  if (value === REDACTED) {
    return DROP;
  }
  if (typeof value !== 'object' || value === null) {
    return type === PRIMITIVE_TYPE || value === null ? value : dropMisplaced(walk);
  }
  if (Array.isArray(value)) {
    return deidArray(value, walk, depth, kind, type);
  }
  return deidObject(value as JsonObject, walk, depth, type);
}

// Elements are copied on write: one that nothing below changes is returned as it came.
// `attachment` tells an Attachment with embedded data, from `isAttachmentWithData`; `type` is
// the element's R4 type.
export function deidElement(
  element: JsonObject,
  walk: Walk,
  depth: number,
  attachment: boolean,
  type: R4Type,
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
      // One lookup tells an unknown name, nested identifiers, free text and narrative apart
      // from every other name, and gives the element's type.
      const slot = slotOf(type, name);
      if (slot === null) {
        walk.counts.unknownElementsRemoved++;
        output = DROP;
      } else if (slot.kind === NESTED_IDENTIFIER) {
        output = mapIdentifiers(value, walk, 'other', depth, slot.type);
      } else if (slot.kind >= ADDRESS) {
        output = deidTyped(slot.kind, value, walk, depth, slot.type);
      } else if (typeof value === 'string' && depth < MAX_DEPTH) {
        // Most values are strings: no call into deidValue just to find that out.
        output =
          slot.type === PRIMITIVE_TYPE ? deidString(value, walk, slot.kind) : dropMisplaced(walk);
      } else if (typeof value === 'object' && value !== null && depth < MAX_DEPTH) {
        // Then objects and arrays, straight to the walk that fits them.
        output = Array.isArray(value)
          ? deidArray(value, walk, depth + 1, slot.kind, slot.type)
          : deidObject(value as JsonObject, walk, depth + 1, slot.type);
      } else {
        output = deidValue(value, walk, depth + 1, slot.kind, slot.type);
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

// Attachment.data is base64Binary beside contentType, url, size, hash, title or creation;
// SampledData.data (a string of numbers beside origin and period) is not an attachment.
export function isAttachmentWithData(element: JsonObject): boolean {
  if (typeof element.data !== 'string' || 'origin' in element || 'period' in element) {
    return false;
  }
  return ['contentType', 'url', 'size', 'hash', 'title', 'creation', 'language'].some(
    (name) => name in element,
  );
}

// A resource's contained resources; one of a type R4 does not define goes, as an unknown element,
// and so does a string, number or boolean in its place.
function deidContained(items: unknown[], walk: Walk, depth: number): JsonObject[] {
  const result: JsonObject[] = [];
  for (const item of items) {
    if (!isJsonObject(item)) {
      dropNonObject(item, walk);
      continue;
    }
    const type =
      typeof item.resourceType === 'string' ? resourceR4Type(item.resourceType) : undefined;
    if (type === undefined) {
      walk.counts.unknownElementsRemoved++;
    } else {
      result.push(deidResource(item, type, walk, undefined, true, depth));
    }
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
  type: R4Type,
): unknown {
  if (typeof rule === 'number') {
    return rule >= ADDRESS
      ? deidTyped(rule, value, walk, depth, type)
      : deidValue(value, walk, depth, rule, type);
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
      return mapItems(value, (address) => deidAddress(address, walk, depth, type));
    case 'contact':
      return mapItems(value, (contact) => deidContact(contact, walk, depth, type));
    case 'identifier-patient':
      return mapIdentifiers(value, walk, 'patient-id', depth, type);
    case 'identifier-other':
      return mapIdentifiers(value, walk, 'other', depth, type);
    case 'patient-id':
      return typeof value === 'string'
        ? pseudonymize(walk.pseudonymKey, 'patient-id', value)
        : DROP;
    case 'narrative':
      return isJsonObject(value) && value.status === 'generated'
        ? DROP
        : deidValue(value, walk, depth, PLAIN, type);
    case 'bundle-entry':
      return mapItems(value, (entry) => deidBundleEntry(entry, walk, depth, type));
    default:
      return deidValue(value, walk, depth, textKindOf(name), type);
  }
}

// An object value (not an array), already checked against the depth limit.
function deidObject(element: JsonObject, walk: Walk, depth: number, type: R4Type): unknown {
  if (walk.handled !== undefined && walk.handled.objects.has(element)) {
    return copyDecided(element);
  }
  // An object where R4 has a primitive value is nothing R4 defines.
  if (type === PRIMITIVE_TYPE) {
    walk.counts.unknownElementsRemoved++;
    return DROP;
  }
  if (type === ANY_RESOURCE_TYPE) {
    return deidNestedResource(element, walk, undefined, depth);
  }
  // Most elements (a Coding, a Period, a Quantity) have none of the names that make an object a
  // Reference, extension or attachment; their names say so without reading them.
  if (!hasMarkingName(element)) {
    return deidElement(element, walk, depth, false, type);
  }
  if (isReference(element)) {
    return deidReference(element, walk, depth, type);
  }
  if (typeof element.url === 'string') {
    return deidExtension(element, walk, depth, type);
  }
  return deidElement(element, walk, depth, isAttachmentWithData(element), type);
}

// Whether an object has one of the names `deidObject` reads to tell what it is. Property names
// from JSON.parse are internalised, so each comparison is one of references.
function hasMarkingName(element: JsonObject): boolean {
  for (const name in element) {
    if (name === 'reference' || name === 'identifier' || name === 'url' || name === 'data') {
      return true;
    }
  }
  return false;
}

function setEmbeddedBinary(result: JsonObject, data: string, walk: Walk): void {
  if (walk.record.compiled.rules.embeddedDocuments === 'encrypt') {
    result.data = encryptData(data, 'fhir:Binary.data', walk.record);
    result.extension = [{ url: ENCRYPTED_EXTENSION_URL, valueCode: 'data' }];
  }
}

// An array is copied from its first changed or dropped item, like an element.
function deidArray(
  items: unknown[],
  walk: Walk,
  depth: number,
  kind: number,
  type: R4Type,
): unknown[] {
  let result: unknown[] | undefined;
  for (let index = 0; index < items.length; index++) {
    const item: unknown = items[index];
    const output = deidValue(item, walk, depth + 1, kind, type);
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
