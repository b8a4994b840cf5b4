import type { RecordDeid } from '../deid/record-context.js';
import {
  DATE_ELEMENTS,
  DROPPED_PATHS,
  FREE_TEXT_ELEMENTS,
  FREE_TEXT_PATHS,
  NESTED_IDENTIFIER_ELEMENTS,
  NUMBER_PRIMITIVE_TYPES,
  PSEUDONYMISED_PATHS,
  STAFF_RESOURCE_TYPES,
  TEXT_PRIMITIVE_TYPES,
} from './deid-rules.js';
import type { ElementRule } from './deid-rules.js';
import { REDACTED } from './fhirpath-rules.js';
import type { HandledNodes } from './fhirpath-rules.js';
import type { JsonObject } from './json.js';
import type { IdentityMap } from './references.js';
import { isR4ResourceType } from './resource-types.js';

/*
 * What the modules of the preset's walk share: its state, the marker for an element that goes,
 * the depth guard, what an element's name says about its value, and the copy-on-write helpers.
 * Nothing here calls back into the walk, so the walk's modules can all import it.
 */

/** What every step of the walk needs. */
export interface Walk {
  pseudonymKey: Uint8Array;
  identityMap: IdentityMap;
  /** The record's offset, scrubber and keys. */
  record: RecordDeid;
  /** What the preset does with dates, addresses and free text. */
  policy: FhirPolicy;
  /** Elements the feed's FHIRPath rules already decided. */
  handled: HandledNodes | undefined;
  /** What the walk removed, shared by the resources it enters (contained, nested entries). */
  counts: DeidCounts;
}

/** What de-identification removed, added to resource by resource: numbers only, never names. */
export interface DeidCounts {
  /** Elements FHIR R4 does not define where they sit, each removed with everything it held. */
  unknownElementsRemoved: number;
}

/** A top-level element's rule, or the text kind of an element with none. */
export type TopLevelRule = ElementRule | number;

/** The preset's choices the walk applies. */
export interface FhirPolicy {
  shiftDates: boolean;
  generalizeBirthDates: boolean;
  address: 'address-state' | 'address-town';
  foldAges: boolean;
}

// Far deeper than any real resource; a guard against crafted input exhausting the stack.
export const MAX_DEPTH = 256;

// What an element's name says about its value, below the top level.
export const PLAIN = 0;
export const FREE_TEXT = 1;
export const NARRATIVE_DIV = 2;
export const NESTED_IDENTIFIER = 3;
export const DATE_ELEMENT = 4;
// What an element's path or type says, whatever its value: kinds from here on are handled by
// `deidTyped` (`deid-typed.ts`), for arrays and single values alike.
export const ADDRESS = 5;
export const DROPPED = 6;
export const PSEUDONYMISED = 7;
export const NUMBER_TEXT = 8;
const NAME_KINDS: ReadonlyMap<string, number> = new Map([
  ...[...FREE_TEXT_ELEMENTS].map(
    (name) => [name, name === 'div' ? NARRATIVE_DIV : FREE_TEXT] as const,
  ),
  ...[...NESTED_IDENTIFIER_ELEMENTS].map((name) => [name, NESTED_IDENTIFIER] as const),
  ...[...DATE_ELEMENTS].map((name) => [name, DATE_ELEMENT] as const),
]);

export class DepthLimitError extends Error {
  override name = 'DepthLimitError';
}

export const DROP = Symbol('drop');

/**
 * What an element's name says about its value: a table, then the `…Date(Time)` suffixes. The walk
 * reads it once per type and name, from the slot `r4-elements.ts` keeps.
 */
export function kindOfName(name: string): number {
  const known = NAME_KINDS.get(name);
  if (known !== undefined) {
    return known;
  }
  return name.endsWith('DateTime') || name.endsWith('Date') || name.endsWith('Instant')
    ? DATE_ELEMENT
    : PLAIN;
}

/**
 * Removes, and counts, a value R4 does not define where it sits: a string, number or boolean where
 * R4 has a datatype, a backbone element or a resource (`"individual": "Dr …"` for a Reference).
 */
export function dropMisplaced(walk: Walk): typeof DROP {
  walk.counts.unknownElementsRemoved++;
  return DROP;
}

/**
 * Removes what the walk expected an object for (an address, a contact, an identifier, an entry),
 * counting it when it is a primitive JSON value as `dropMisplaced` does.
 */
export function dropNonObject(value: unknown, walk: Walk): typeof DROP {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    walk.counts.unknownElementsRemoved++;
  }
  return DROP;
}

/**
 * What an element's model path or R4 type says about its value, before its name: an Address
 * anywhere, a HumanName or ContactPoint outside staff resources, device identifiers, free text by
 * path, and an extension's primitive value. Read once per type and name, as `kindOfName` is.
 *
 * @param path - the model path of the object the element sits in (`Claim.accident`, `Extension`)
 * @param name - the element's name
 * @param typeName - the element's type in the model, `undefined` for a `_name` or a backbone
 *   defined elsewhere
 */
export function kindOfElement(path: string, name: string, typeName: string | undefined): number {
  const elementPath = `${path}.${name}`;
  if (FREE_TEXT_PATHS.has(elementPath)) {
    return FREE_TEXT;
  }
  if (DROPPED_PATHS.has(elementPath)) {
    return DROPPED;
  }
  if (PSEUDONYMISED_PATHS.has(elementPath)) {
    return PSEUDONYMISED;
  }
  if (typeName === 'Address' || typeName === 'HumanName' || typeName === 'ContactPoint') {
    // A staff resource's own names, contacts and addresses (a practitioner's, a clinic's) stay,
    // as the HL7 v2 side keeps providers and facilities; anywhere else they may be a person's.
    const resourceType = path.split('.', 1)[0];
    const personal =
      path === 'Extension' ||
      (isR4ResourceType(resourceType) && !STAFF_RESOURCE_TYPES.has(resourceType));
    if (typeName === 'Address') {
      return personal || !isR4ResourceType(resourceType) ? ADDRESS : PLAIN;
    }
    return personal ? DROPPED : PLAIN;
  }
  // An extension whose URL the walk does not know can put an identifier in any value[x].
  if (path === 'Extension' && name.startsWith('value') && typeName !== undefined) {
    if (TEXT_PRIMITIVE_TYPES.has(typeName)) {
      return FREE_TEXT;
    }
    if (NUMBER_PRIMITIVE_TYPES.has(typeName)) {
      return NUMBER_TEXT;
    }
  }
  return kindOfName(name);
}

export function textKindOf(name: string): number {
  const kind = kindOfName(name);
  return kind === FREE_TEXT || kind === NARRATIVE_DIV || kind === DATE_ELEMENT ? kind : PLAIN;
}

// What a FHIRPath rule decided is copied as it is, less what it removed.
export function copyDecided(value: unknown): unknown {
  if (value === REDACTED) {
    return DROP;
  }
  return Array.isArray(value) ? value.filter((item) => item !== REDACTED) : value;
}

// The copy an element gets at its first change: the properties before it, which stayed as sent.
// `__proto__` never counts as unchanged, so a copy sets it the way the walk always has.
export function copyBefore(element: JsonObject, stop: string): JsonObject {
  const copy: JsonObject = {};
  for (const name in element) {
    if (name === stop) {
      break;
    }
    copy[name] = element[name];
  }
  return copy;
}

export function setIfDefined(target: JsonObject, name: string, value: unknown): void {
  if (value !== undefined) {
    target[name] = value;
  }
}

export function setIfNotDropped(target: JsonObject, name: string, value: unknown): void {
  if (value !== DROP) {
    target[name] = value;
  }
}

/**
 * Maps a value or each item of an array of values, keeping the array itself when no item
 * changed and leaving out items mapped to `DROP`.
 *
 * @param value - one value or an array of them
 * @param map - what to make of one value
 */
export function mapItems(value: unknown, map: (item: unknown) => unknown): unknown {
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
