/**
 * The tables behind the preset walk of `deidentifyResource`: HIPAA Safe Harbor
 * (45 CFR 164.514(b)(2)) for FHIR R4 by element name. A feed's FHIRPath rules run before the
 * walk and take precedence; see docs/deidentification.md.
 */

import { zip3 } from '../safe-harbor.js';

export { zip3 };

/** What happens to one top-level element of a resource. */
export type ElementRule =
  | 'drop'
  | 'year'
  | 'birth-year'
  | 'address'
  | 'contact'
  | 'resource-id'
  | 'identifier-patient'
  | 'identifier-other'
  | 'patient-id'
  | 'bundle-entry'
  | 'narrative';

// A generated narrative only repeats the structured data, which is de-identified on its own,
// so it goes; any other narrative says more than the data and is scrubbed instead.
// Every Identifier-typed element a resource can hold at the top level is pseudonymised:
// accession and requisition numbers lead back to a patient as surely as an MRN does.
const EVERY_RESOURCE: Readonly<Record<string, ElementRule>> = {
  text: 'narrative',
  identifier: 'identifier-other',
  masterIdentifier: 'identifier-other',
  accessionIdentifier: 'identifier-other',
  groupIdentifier: 'identifier-other',
  requisition: 'identifier-other',
};

// Birth and death keep their year (birth years of people 90 or older folded into one); every
// other date of the person is shifted with the patient's offset.
const PERSON_RESOURCE: Readonly<Record<string, ElementRule>> = {
  ...EVERY_RESOURCE,
  id: 'resource-id',
  identifier: 'identifier-patient',
  name: 'drop',
  telecom: 'drop',
  photo: 'drop',
  address: 'address',
  birthDate: 'birth-year',
  _birthDate: 'drop',
  deceasedDateTime: 'year',
  _deceasedDateTime: 'drop',
  contact: 'contact',
};

// Limitation: the presets' FHIR side is this table and the walk, not FHIRPath, so a preset
// cannot be listed or overridden expression by expression; feed rules in FHIRPath run first.
const ELEMENT_RULES: Readonly<Record<string, Readonly<Record<string, ElementRule>>>> = {
  Patient: PERSON_RESOURCE,
  RelatedPerson: PERSON_RESOURCE,
  Person: PERSON_RESOURCE,
  Coverage: { ...EVERY_RESOURCE, subscriberId: 'patient-id' },
  // A search link can hold a query by name or identifier.
  Bundle: { ...EVERY_RESOURCE, entry: 'bundle-entry', link: 'drop' },
};

/**
 * String elements that hold free text, scrubbed wherever they appear: narrative, Annotation and
 * CodeableConcept text, string and markdown values, descriptions, comments and titles.
 */
export const FREE_TEXT_ELEMENTS: ReadonlySet<string> = new Set([
  'div',
  'text',
  'valueString',
  'valueMarkdown',
  'description',
  'comment',
  'title',
  'summary',
  'conclusion',
  'patientInstruction',
  'note',
]);

/**
 * String elements of clinical and financial resources, by model path, that hold free text under
 * a name the list above does not cover: a message's content, who wrote a note, a relative's
 * birth or age as written, an account's name, onsets and times written as text.
 */
export const FREE_TEXT_PATHS: ReadonlySet<string> = new Set([
  'Communication.payload.contentString',
  'CommunicationRequest.payload.contentString',
  'Annotation.authorString',
  'FamilyMemberHistory.bornString',
  'FamilyMemberHistory.ageString',
  'FamilyMemberHistory.deceasedString',
  'FamilyMemberHistory.condition.onsetString',
  'Account.name',
  'AllergyIntolerance.onsetString',
  'Condition.onsetString',
  'Condition.abatementString',
  'Procedure.performedString',
  'Immunization.occurrenceString',
  'CarePlan.activity.detail.scheduledString',
  'Goal.target.detailString',
  'CareTeam.name',
  'Group.name',
  'Contract.name',
  'AuditEvent.agent.name',
  'AuditEvent.entity.name',
]);

/**
 * Elements dropped wherever their model path is this: a relative's name, and a UDI's barcode
 * contents, which hold the device identifier and often its serial number (Safe Harbor M).
 */
export const DROPPED_PATHS: ReadonlySet<string> = new Set([
  'FamilyMemberHistory.name',
  'Device.udiCarrier.carrierHRF',
  'Device.udiCarrier.carrierAIDC',
]);

/** String elements that identify one device (Safe Harbor M), pseudonymised like identifiers. */
export const PSEUDONYMISED_PATHS: ReadonlySet<string> = new Set([
  'Device.serialNumber',
  'Device.lotNumber',
  'Device.distinctIdentifier',
  'Device.udiCarrier.deviceIdentifier',
]);

/**
 * Resources about staff, organisations, places and systems: their HumanName and ContactPoint
 * elements name a practitioner, an insurer's or manufacturer's contact, a service, and stay.
 * Those of every other resource can name the patient or a relative (`Task.input.valueHumanName`,
 * `CareTeam.telecom`) and go, as a Patient's do.
 */
export const STAFF_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'OrganizationAffiliation',
  'Location',
  'HealthcareService',
  'Endpoint',
  'InsurancePlan',
  'Device',
  'DeviceDefinition',
  'Subscription',
  'MessageHeader',
]);

/** Primitive types whose value is text: an extension's value of one is scrubbed as free text. */
export const TEXT_PRIMITIVE_TYPES: ReadonlySet<string> = new Set([
  'string',
  'code',
  'id',
  'uri',
  'url',
  'canonical',
  'oid',
  'uuid',
  'markdown',
  'base64Binary',
]);

/** Primitive types whose value is a JSON number. */
export const NUMBER_PRIMITIVE_TYPES: ReadonlySet<string> = new Set([
  'integer',
  'decimal',
  'positiveInt',
  'unsignedInt',
]);

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
  'accessionIdentifier',
  'groupIdentifier',
  'requisition',
  'preAdmissionIdentifier',
  'valueIdentifier',
]);

/**
 * Elements of type date, dateTime or instant whose names do not end in `Date`, `DateTime` or
 * `Instant` (those are recognised by their suffix): a string there that is not a FHIR date is
 * removed, since it cannot be shifted.
 */
export const DATE_ELEMENTS: ReadonlySet<string> = new Set([
  'date',
  'start',
  'end',
  'issued',
  'authoredOn',
  'recorded',
  'created',
  'sent',
  'received',
  'timestamp',
  'lastUpdated',
  'whenPrepared',
  'whenHandedOver',
  'dateWritten',
  'lastOccurrence',
]);

/**
 * Returns the rules for the top-level elements of one resource type.
 *
 * @param resourceType - the resource's `resourceType`
 */
export function elementRulesFor(resourceType: string): Readonly<Record<string, ElementRule>> {
  return ELEMENT_RULES[resourceType] ?? EVERY_RESOURCE;
}
