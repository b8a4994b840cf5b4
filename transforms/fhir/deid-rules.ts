/**
 * The tables behind `deidentifyResource`: a first cut of HIPAA Safe Harbor
 * (45 CFR 164.514(b)(2)) for FHIR R4. A later rules engine with FHIRPath replaces them; the walk
 * in `deidentify.ts` only applies what these tables say.
 */

import { zip3 } from '../safe-harbor.js';

export { zip3 };

/** What happens to one top-level element of a resource. */
export type ElementRule =
  | 'drop'
  | 'year'
  | 'address'
  | 'contact'
  | 'resource-id'
  | 'identifier-patient'
  | 'identifier-other'
  | 'patient-id'
  | 'bundle-entry';

// Limitation: free text (Annotation, CodeableConcept.text, string values) is kept; the narrative
// and embedded attachment data are dropped instead of scrubbed until the free-text scrubber exists.
const EVERY_RESOURCE: Readonly<Record<string, ElementRule>> = {
  text: 'drop',
  identifier: 'identifier-other',
};

// Limitation: outside person resources, dates stay whole, and ages over 89 are not grouped.
const PERSON_RESOURCE: Readonly<Record<string, ElementRule>> = {
  ...EVERY_RESOURCE,
  id: 'resource-id',
  identifier: 'identifier-patient',
  name: 'drop',
  telecom: 'drop',
  photo: 'drop',
  address: 'address',
  birthDate: 'year',
  _birthDate: 'drop',
  deceasedDateTime: 'year',
  _deceasedDateTime: 'drop',
  contact: 'contact',
};

const ELEMENT_RULES: Readonly<Record<string, Readonly<Record<string, ElementRule>>>> = {
  Patient: PERSON_RESOURCE,
  RelatedPerson: PERSON_RESOURCE,
  Person: PERSON_RESOURCE,
  Coverage: { ...EVERY_RESOURCE, subscriberId: 'patient-id' },
  // A search link can hold a query by name or identifier.
  Bundle: { ...EVERY_RESOURCE, entry: 'bundle-entry', link: 'drop' },
};

/** Address parts no smaller than a state; `postalCode` is cut to three digits by `zip3`. */
export const KEPT_ADDRESS_ELEMENTS: ReadonlySet<string> = new Set([
  'use',
  'type',
  'state',
  'country',
  'period',
]);

/** Extensions dropped wherever they appear, by URL. */
export const DROPPED_EXTENSIONS: ReadonlySet<string> = new Set([
  'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName',
  'http://hl7.org/fhir/StructureDefinition/patient-birthTime',
]);

/**
 * Extension value types that describe a person, dropped wherever they appear: on a Coverage,
 * a `valueHumanName` is the insured's name (IN1-16), usually the patient's own.
 */
export const DROPPED_EXTENSION_VALUES: readonly string[] = ['valueHumanName', 'valueContactPoint'];

/** Elements below the top level that hold an Identifier, or an array of them. */
export const NESTED_IDENTIFIER_ELEMENTS: ReadonlySet<string> = new Set([
  'identifier',
  'masterIdentifier',
  'preAdmissionIdentifier',
  'valueIdentifier',
]);


/**
 * Returns the rules for the top-level elements of one resource type.
 *
 * @param resourceType - the resource's `resourceType`
 */
export function elementRulesFor(resourceType: string): Readonly<Record<string, ElementRule>> {
  return ELEMENT_RULES[resourceType] ?? EVERY_RESOURCE;
}
