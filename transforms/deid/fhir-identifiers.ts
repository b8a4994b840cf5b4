import { isJsonObject } from '../fhir/json.js';
import type { JsonObject } from '../fhir/json.js';
import { emptyKnownIdentifiers } from './free-text.js';
import type { KnownIdentifiers } from './free-text.js';

/** Resources whose structured fields describe a person: the patient or a relative. */
const PERSON_TYPES: ReadonlySet<string> = new Set(['Patient', 'RelatedPerson', 'Person']);

/**
 * Collects the identifiers the person resources among `resources` carry (names, identifiers,
 * telecom, addresses, birth and death dates, contacts), including contained ones.
 *
 * @param resources - the resources of one document or one NDJSON line
 * @param known - adds to this set when given
 */
export function collectFhirIdentifiers(
  resources: readonly unknown[],
  known: KnownIdentifiers = emptyKnownIdentifiers(),
): KnownIdentifiers {
  for (const resource of resources) {
    if (!isJsonObject(resource)) {
      continue;
    }
    if (PERSON_TYPES.has(String(resource.resourceType))) {
      collectPerson(resource, known);
    }
    if (Array.isArray(resource.contained)) {
      collectFhirIdentifiers(resource.contained, known);
    }
  }
  return known;
}

/**
 * Returns the JSON of the resources that are not about a person, free-text elements left out:
 * practitioners, organisations, codes. A patient's value that also appears there is kept by
 * design; the leak checker counts only occurrences beyond these.
 *
 * @param resources - the resources of one document or one NDJSON line
 */
export function fhirBaselineText(resources: readonly unknown[]): string {
  return JSON.stringify(
    resources.filter(
      (resource) => isJsonObject(resource) && !PERSON_TYPES.has(String(resource.resourceType)),
    ),
    function (this: unknown, name: string, value: unknown) {
      // A Reference's display can be the patient's name; a code's display is vocabulary.
      const inReference = name === 'display' && isJsonObject(this) && 'reference' in this;
      return BASELINE_SKIPPED.has(name) || inReference ? undefined : value;
    },
  );
}

// Free text and contained resources can carry the patient's name.
const BASELINE_SKIPPED: ReadonlySet<string> = new Set([
  'text',
  'div',
  'note',
  'valueString',
  'description',
  'comment',
  'contained',
]);

function collectPerson(person: JsonObject, known: KnownIdentifiers): void {
  for (const name of asArray(person.name)) {
    collectName(name, known);
  }
  for (const identifier of asArray(person.identifier)) {
    if (isJsonObject(identifier)) {
      pushString(known.ids, identifier.value);
    }
  }
  for (const telecom of asArray(person.telecom)) {
    collectTelecom(telecom, known);
  }
  for (const address of asArray(person.address)) {
    collectAddress(address, known);
  }
  for (const element of ['birthDate', 'deceasedDateTime']) {
    const value = person[element];
    if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) {
      known.dates.push(value.slice(0, 10));
    }
  }
  for (const contact of asArray(person.contact)) {
    if (isJsonObject(contact)) {
      collectName(contact.name, known);
      asArray(contact.telecom).forEach((telecom) => collectTelecom(telecom, known));
      collectAddress(contact.address, known);
    }
  }
}

function collectName(name: unknown, known: KnownIdentifiers): void {
  if (!isJsonObject(name)) {
    return;
  }
  pushString(known.names, name.family);
  asArray(name.given).forEach((given) => pushString(known.names, given));
  pushString(known.names, name.text);
}

function collectTelecom(telecom: unknown, known: KnownIdentifiers): void {
  if (!isJsonObject(telecom)) {
    return;
  }
  if (telecom.system === 'email') {
    pushString(known.emails, telecom.value);
  } else if (telecom.system === 'url') {
    pushString(known.ids, telecom.value);
  } else {
    pushString(known.phones, telecom.value);
  }
}

function collectAddress(address: unknown, known: KnownIdentifiers): void {
  if (!isJsonObject(address)) {
    return;
  }
  asArray(address.line).forEach((line) => pushString(known.addresses, line));
  pushString(known.addresses, address.city);
  pushString(known.zips, address.postalCode);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function pushString(list: string[], value: unknown): void {
  if (typeof value === 'string' && value.trim() !== '') {
    list.push(value.trim());
  }
}
