import { pseudonymize } from '../pseudonym.js';
import { deidAddress } from './deid-identity.js';
import { deidString } from './deid-text.js';
import {
  ADDRESS,
  DROP,
  dropMisplaced,
  FREE_TEXT,
  mapItems,
  NUMBER_TEXT,
  PSEUDONYMISED,
} from './deid-walk.js';
import type { Walk } from './deid-walk.js';
import type { R4Type } from './r4-elements.js';

/*
 * Elements the walk decides by their model path or R4 type rather than by their name (the kinds
 * from `ADDRESS` on, see `kindOfElement`): an Address anywhere, a HumanName or ContactPoint that
 * can name the patient, a device's identifiers, an extension's number. Each takes an array of
 * them as it takes one.
 */

/**
 * Returns what the preset keeps of an element of one of these kinds, or `DROP`.
 *
 * @param kind - the element's kind, `ADDRESS` or later
 * @param value - the element's value or array of values
 * @param walk - the walk's state
 * @param depth - the element's depth
 * @param type - the element's R4 type
 */
export function deidTyped(
  kind: number,
  value: unknown,
  walk: Walk,
  depth: number,
  type: R4Type,
): unknown {
  const result = mapItems(value, (item) => deidOne(kind, item, walk, depth, type));
  // FHIR allows no empty array: one whose every item went goes too.
  return Array.isArray(result) && result.length === 0 && value !== result ? DROP : result;
}

function deidOne(kind: number, value: unknown, walk: Walk, depth: number, type: R4Type): unknown {
  if (kind === ADDRESS) {
    return deidAddress(value, walk, depth, type);
  }
  if (kind === PSEUDONYMISED) {
    // The same namespace as an Identifier.value, so a serial number sent both ways joins.
    return typeof value === 'string' ? pseudonymize(walk.pseudonymKey, 'other', value) : DROP;
  }
  if (kind === NUMBER_TEXT) {
    return deidNumber(value, walk);
  }
  return DROP;
}

// An extension's number stays unless the digits of its whole part are something the scrubber
// removes (an SSN or MRN written without separators); a number cannot hold the bracketed kind, so
// it goes. The fraction is left out: a score such as 1.3450582738843425 is a run of digits, not
// an identifier.
function deidNumber(value: unknown, walk: Walk): unknown {
  if (typeof value === 'string') {
    return deidString(value, walk, FREE_TEXT);
  }
  if (typeof value !== 'number') {
    return value === null || typeof value === 'boolean' ? value : dropMisplaced(walk);
  }
  const digits = String(Math.trunc(Math.abs(value)));
  return walk.record.scrubber().scrub(digits) === digits ? value : DROP;
}
