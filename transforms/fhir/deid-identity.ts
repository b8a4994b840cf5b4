import { pseudonymize } from '../pseudonym.js';
import type { PseudonymNamespace } from '../pseudonym.js';
import {
  deidElement,
  deidNestedResource,
  deidValue,
  isAttachmentWithData,
} from './deid-element.js';
import { DROPPED_EXTENSION_VALUES, DROPPED_EXTENSIONS } from './deid-rules.js';
import { generalizeAddress } from './deid-values.js';
import {
  copyBefore,
  copyDecided,
  DROP,
  dropNonObject,
  PLAIN,
  setIfDefined,
  setIfNotDropped,
} from './deid-walk.js';
import type { Walk } from './deid-walk.js';
import { isHandled } from './fhirpath-rules.js';
import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { PRIMITIVE_TYPE, slotOf } from './r4-elements.js';
import type { R4Type } from './r4-elements.js';
import { collectIdentityMap, IDENTITY_RESOURCE_TYPES, rewriteReference } from './references.js';
import type { IdentityMap } from './references.js';

/*
 * The parts of the preset's walk that identify a person or point at one: identifiers become
 * keyed pseudonyms, references are rewritten so they still join, a nested Bundle's entries
 * resolve among themselves, and addresses, contacts and person extensions lose what names the
 * person. What these elements hold otherwise goes back to the walk in `deid-element.ts`. Each
 * takes the element's R4 type and removes, and counts, the names R4 does not define there.
 */

// A literal reference, or a logical one: an Identifier with a type or display beside it.
// Limitation: a Reference holding only a display is not recognised; that display, possibly a
// name, stays unless it is free text the scrubber reads.
export function isReference(value: JsonObject): boolean {
  if (typeof value.reference === 'string') {
    return true;
  }
  if (!isJsonObject(value.identifier)) {
    return false;
  }
  return typeof value.type === 'string' || typeof value.display === 'string';
}

// Reference.display of a person is usually the name, so it goes unless the target is known.
export function deidReference(
  reference: JsonObject,
  walk: Walk,
  depth: number,
  type: R4Type,
): unknown {
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
    const slot = slotOf(type, name);
    if (walk.handled !== undefined && isHandled(walk.handled, reference, name)) {
      output = copyDecided(value);
    } else if (slot === null) {
      walk.counts.unknownElementsRemoved++;
      output = DROP;
    } else if (name === 'reference') {
      output = rewritten.reference ?? DROP;
    } else if (name === 'display' || name === '_display') {
      output = toPerson ? DROP : value;
    } else if (name === 'identifier') {
      const namespace = toPerson ? 'patient-id' : 'other';
      output = deidIdentifier(value, walk, namespace, depth, slot.type);
    } else {
      output = deidValue(value, walk, depth + 1, PLAIN, slot.type);
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

// An extension's elements are those R4 gives every extension: `url`, `id`, `extension` and one
// `value[x]` of a type R4 allows there; anything else in it goes like any unknown element.
export function deidExtension(
  extension: JsonObject,
  walk: Walk,
  depth: number,
  type: R4Type,
): unknown {
  const url = String(extension.url);
  if (DROPPED_EXTENSIONS.has(url)) {
    return DROP;
  }
  if (DROPPED_EXTENSION_VALUES.some((valueName) => valueName in extension)) {
    return DROP;
  }
  // `valueAddress` is an Address, which the walk generalises wherever it sits.
  const result = deidElement(extension, walk, depth, isAttachmentWithData(extension), type);
  // An extension whose number the scrubber matched, or whose address had nothing left, has
  // nothing left to say; FHIR wants a value or nested extensions, so it goes. One that lost an
  // unknown value keeps its url, as before.
  return result === extension || hasValueOrExtension(result) || !hasDroppableValue(extension)
    ? result
    : DROP;
}

// `type` is Address; the preset keeps only parts R4 defines, but an unknown one is still counted.
export function deidAddress(
  address: unknown,
  walk: Walk,
  depth: number,
  type: R4Type,
): JsonObject | typeof DROP {
  if (!isJsonObject(address)) {
    return dropNonObject(address, walk);
  }
  if (walk.handled?.objects.has(address)) {
    return address;
  }
  for (const name in address) {
    if (slotOf(type, name) === null) {
      walk.counts.unknownElementsRemoved++;
    }
  }
  // An inline arrow: a named one costs a `defineProperty` per address under tsx (keepNames).
  return dropIfEmpty(
    generalizeAddress(address, walk.policy.address, (value, name) => {
      const kept = deidValue(
        value,
        walk,
        depth + 1,
        PLAIN,
        slotOf(type, name)?.type ?? PRIMITIVE_TYPE,
      );
      return kept === DROP ? undefined : kept;
    }),
  );
}

export function deidContact(contact: unknown, walk: Walk, depth: number, type: R4Type): unknown {
  if (!isJsonObject(contact)) {
    return dropNonObject(contact, walk);
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
    const slot = slotOf(type, name);
    if (slot === null) {
      walk.counts.unknownElementsRemoved++;
      continue;
    }
    if (name === 'name' || name === 'telecom') {
      continue;
    }
    const output =
      name === 'address'
        ? deidAddress(value, walk, depth, slot.type)
        : deidValue(value, walk, depth + 1, PLAIN, slot.type);
    setIfNotDropped(result, name, output);
  }
  return dropIfEmpty(result);
}

// A nested Bundle keeps its entries; their URLs and searches can name a person.
export function deidBundleEntry(entry: unknown, walk: Walk, depth: number, type: R4Type): unknown {
  if (!isJsonObject(entry)) {
    return dropNonObject(entry, walk);
  }
  const result: JsonObject = {};
  for (const [name, value] of Object.entries(entry)) {
    const slot = slotOf(type, name);
    if (slot === null) {
      walk.counts.unknownElementsRemoved++;
    } else if (name === 'fullUrl' && typeof value === 'string') {
      const rewritten = rewriteReference(value, walk.pseudonymKey, walk.identityMap);
      setIfDefined(result, name, rewritten.reference);
    } else if (name === 'resource' && isJsonObject(value)) {
      const fullUrl = typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined;
      setIfNotDropped(result, name, deidNestedResource(value, walk, fullUrl, depth + 1));
    } else if (name !== 'request' && name !== 'response' && name !== 'search' && name !== 'link') {
      setIfNotDropped(result, name, deidValue(value, walk, depth + 1, PLAIN, slot.type));
    }
  }
  return result;
}

// Entries of a nested Bundle resolve their urn:uuid references among themselves.
export function withNestedEntries(bundle: JsonObject, walk: Walk): IdentityMap {
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

// `mapItems` for identifiers, the most common case, without a closure per call.
export function mapIdentifiers(
  value: unknown,
  walk: Walk,
  namespace: PseudonymNamespace,
  depth: number,
  type: R4Type,
): unknown {
  if (!Array.isArray(value)) {
    return deidIdentifier(value, walk, namespace, depth, type);
  }
  let result: unknown[] | undefined;
  for (let index = 0; index < value.length; index++) {
    const item: unknown = value[index];
    const output = deidIdentifier(item, walk, namespace, depth, type);
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

function deidIdentifier(
  identifier: unknown,
  walk: Walk,
  namespace: PseudonymNamespace,
  depth: number,
  type: R4Type,
): unknown {
  if (!isJsonObject(identifier)) {
    return dropNonObject(identifier, walk);
  }
  if (walk.handled?.objects.has(identifier)) {
    return identifier;
  }
  const result: JsonObject = {};
  for (const name in identifier) {
    const value = identifier[name];
    if (walk.handled !== undefined && isHandled(walk.handled, identifier, name)) {
      setIfNotDropped(result, name, copyDecided(value));
      continue;
    }
    const slot = slotOf(type, name);
    if (slot === null) {
      walk.counts.unknownElementsRemoved++;
    } else if (name === 'value') {
      if (typeof value === 'string') {
        result.value = pseudonymize(walk.pseudonymKey, namespace, value);
      }
    } else if (name !== '_value' && name !== 'extension') {
      setIfNotDropped(result, name, deidValue(value, walk, depth + 1, PLAIN, slot.type));
    }
  }
  return result;
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

// A number the scrubber can match, or an address the preset can empty.
function hasDroppableValue(extension: JsonObject): boolean {
  for (const name in extension) {
    if (
      name === 'valueAddress' ||
      (name.startsWith('value') && typeof extension[name] === 'number')
    ) {
      return true;
    }
  }
  return false;
}

function hasValueOrExtension(extension: JsonObject): boolean {
  for (const name in extension) {
    if (name.startsWith('value') || name === 'extension') {
      return true;
    }
  }
  return false;
}
