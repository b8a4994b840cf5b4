import { shiftFhirDate } from '../deid/date-shift.js';
import { sealField } from '../deid/field-crypto.js';
import type { RecordDeid } from '../deid/record-context.js';
import type { GeneralizeTarget } from '../deid/rules.js';
import { foldAge, keptYearOf, zip3 } from '../safe-harbor.js';
import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { shiftFullFhirDate } from './shift-date.js';

/*
 * Value-level methods shared by the preset walk (`deid-element.ts`) and FHIRPath rules
 * (`fhirpath-rules.ts`), so both give the same output for the same value.
 */

/** Marks an element that carries an encrypted value (`encrypt`, embedded documents). */
export const ENCRYPTED_EXTENSION_URL = 'urn:phi-ingest:fhir:extension:encrypted-aes-256-gcm-v1';

/** FHIR's own marker for data withheld on purpose. */
export const MASKED_DATA_EXTENSION: JsonObject = Object.freeze({
  url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason',
  valueCode: 'masked',
});

// Address parts no smaller than a state; town is added for a limited data set.
const STATE_LEVEL = ['use', 'type', 'state', 'country', 'period'];
const TOWN_LEVEL = [...STATE_LEVEL, 'city'];
const UCUM = 'http://unitsofmeasure.org';

/**
 * Returns an Address reduced to state and three-digit ZIP, or to town and five-digit ZIP.
 *
 * @param address - an Address
 * @param level - `address-state` (Safe Harbor) or `address-town` (limited data set)
 * @param mapKept - applied to each kept element with its name (the walk shifts `period` with it);
 *   an element it maps to `undefined` goes
 */
export function generalizeAddress(
  address: JsonObject,
  level: 'address-state' | 'address-town',
  mapKept: (value: unknown, name: string) => unknown = (value) => value,
): JsonObject {
  const result: JsonObject = {};
  for (const name of level === 'address-state' ? STATE_LEVEL : TOWN_LEVEL) {
    const kept = address[name] === undefined ? undefined : mapKept(address[name], name);
    if (kept !== undefined) {
      result[name] = kept;
    }
  }
  const postalCode =
    level === 'address-state'
      ? zip3(address.postalCode)
      : /^\s*(\d{5})/.exec(String(address.postalCode ?? ''))?.[1];
  if (postalCode !== undefined) {
    result.postalCode = postalCode;
  }
  return result;
}

/**
 * Applies `generalize` to one value; `undefined` when the value does not fit the target.
 *
 * @param value - the element's value
 * @param to - the target
 * @param record - the record's reference year
 */
export function generalizeValue(value: unknown, to: GeneralizeTarget, record: RecordDeid): unknown {
  switch (to) {
    case 'zip3':
      return zip3(value);
    case 'address-state':
    case 'address-town':
      return isJsonObject(value) ? generalizeAddress(value, to) : undefined;
    case 'year':
    case 'birth-year': {
      return typeof value === 'string' ? keptYearOf(value, to, record.referenceYear) : undefined;
    }
    case 'age':
      if (typeof value === 'number') {
        return foldAge(value);
      }
      return isJsonObject(value) && typeof value.value === 'number'
        ? { ...value, value: foldAge(value.value) }
        : undefined;
  }
}

/**
 * Folds an Age or an age Quantity in years over 89 into 90; other elements pass unchanged.
 *
 * @param element - any element
 */
export function foldAgeQuantity(element: JsonObject): JsonObject {
  if (element.system === UCUM && element.code === 'a' && typeof element.value === 'number') {
    return element.value >= 90 ? { ...element, value: foldAge(element.value) } : element;
  }
  return element;
}

/**
 * Shifts a FHIR date, dateTime or instant; text that is not one is returned unchanged.
 *
 * @param value - a string element
 * @param record - the record's offset
 */
export function shiftIfDate(value: string, record: RecordDeid): string {
  return shiftDateBy(value, record.offsetDays);
}

/**
 * `shiftIfDate` with the offset already read.
 *
 * @param value - a string element
 * @param offsetDays - the patient's offset
 */
export function shiftDateBy(value: string, offsetDays: number): string {
  return shiftFullFhirDate(value, offsetDays) ?? shiftFhirDate(value, offsetDays) ?? value;
}

/**
 * Scrubs an XHTML narrative between its tags, so markup and attributes stay intact.
 *
 * @param div - `Narrative.div`
 * @param record - the record's scrubber
 */
export function scrubNarrative(div: string, record: RecordDeid): string {
  const scrubber = record.scrubber();
  return div.replace(/>([^<]+)</g, (whole, text: string) => {
    const scrubbed = scrubber.scrub(text);
    return scrubbed === text ? whole : `>${scrubbed}<`;
  });
}

/**
 * Encrypts an embedded document's base64 data into base64 of the sealed bytes.
 *
 * @param data - `Attachment.data` or `Binary.data`
 * @param field - names the field for the associated data
 * @param record - the record's field keys
 */
export function encryptData(data: string, field: string, record: RecordDeid): string {
  return sealField(record.fieldKeys(), field, data).toString('base64');
}
