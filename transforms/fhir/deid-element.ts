import { pseudonymize } from '../pseudonym.js';
import { elementRulesFor } from './deid-rules.js';
import type { ElementRule } from './deid-rules.js';
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
import {
  encryptData,
  ENCRYPTED_EXTENSION_URL,
  foldAgeQuantity,
  generalizeValue,
  MASKED_DATA_EXTENSION,
} from './deid-values.js';
import {
  copyBefore,
  copyDecided,
  DepthLimitError,
  DROP,
  kindOfName,
  MAX_DEPTH,
  NESTED_IDENTIFIER,
  PLAIN,
  setIfDefined,
  setIfNotDropped,
  textKindOf,
} from './deid-walk.js';
import type { Walk } from './deid-walk.js';
import { isHandled, REDACTED } from './fhirpath-rules.js';
import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { pseudonymizeResourceId } from './references.js';
import { isR4ResourceType } from './resource-types.js';

/*
 * The preset's walk over a resource: each top-level element by its rule from the tables, every
 * other value by what it is (a resource, a Reference, an extension, an attachment or a plain
 * element) and by what its name says. Identifiers, references and a person's address and
 * contacts are in `deid-identity.ts`, which calls back into this walk for what they hold; the
 * two import each other, and neither runs anything of the other's when loaded.
 */

// The element tables as maps, one per resource type: most names are in no table, and a map
// answers that fastest. A name with no rule gets its text kind in the same map when first met,
// so one lookup tells what to do with a top-level element; names come from the input, so each
// map stops growing at a bound.
const ELEMENT_RULE_MAPS = new Map<string, Map<string, TopLevelRule>>();
const MAX_RULE_MAPS = 256;
const MAX_TOP_LEVEL_NAMES = 1024;

/** A top-level element's rule, or the text kind of an element with none. */
type TopLevelRule = ElementRule | number;

// `fullUrl` is the Bundle entry's; `contained` tells a resource inside another's `contained`.
export function deidResource(
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

// `kind` is what the element's name says about a string value (or an array of them).
export function deidValue(value: unknown, walk: Walk, depth: number, kind = PLAIN): unknown {
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

// Elements are copied on write: one that nothing below changes is returned as it came.
// `attachment` tells an Attachment with embedded data, from `isAttachmentWithData`.
export function deidElement(
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

function setEmbeddedBinary(result: JsonObject, data: string, walk: Walk): void {
  if (walk.record.compiled.rules.embeddedDocuments === 'encrypt') {
    result.data = encryptData(data, 'fhir:Binary.data', walk.record);
    result.extension = [{ url: ENCRYPTED_EXTENSION_URL, valueCode: 'data' }];
  }
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
