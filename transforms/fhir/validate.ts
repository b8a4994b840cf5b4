import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { isR4ResourceType } from './resource-types.js';

/** A structural fault in a resource: a code and the element it sits in, never the value. */
export interface ResourceInvalid {
  ok: false;
  code: 'FHIR_INVALID_RESOURCE' | 'FHIR_MISSING_RESOURCE_TYPE';
  position: { field: string };
}

// https://hl7.org/fhir/R4/datatypes.html#id allows [A-Za-z0-9-.]{1,64}. Feeds send ids with `_`,
// `#` or `:` in them (vendor exports, fixture templates); refusing the whole resource for that
// would lose data over an id the de-identification replaces or downstream keys on anyway, so
// only the length and the absence of white space and control characters are enforced.
const FHIR_ID_PATTERN = /^[^\s\p{Cc}]{1,64}$/u;

const REQUEST_STATUS = [
  'draft',
  'active',
  'on-hold',
  'revoked',
  'completed',
  'entered-in-error',
  'unknown',
];
const ADMINISTRATIVE_GENDER = ['male', 'female', 'other', 'unknown'];

/**
 * Code elements with a required binding in R4, per resource type: element name to allowed codes.
 * Value sets from https://hl7.org/fhir/R4/terminologies-valuesets.html.
 */
const REQUIRED_CODES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  Observation: {
    status: [
      'registered',
      'preliminary',
      'final',
      'amended',
      'corrected',
      'cancelled',
      'entered-in-error',
      'unknown',
    ],
  },
  Encounter: {
    status: [
      'planned',
      'arrived',
      'triaged',
      'in-progress',
      'onleave',
      'finished',
      'cancelled',
      'entered-in-error',
      'unknown',
    ],
  },
  Procedure: {
    status: [
      'preparation',
      'in-progress',
      'not-done',
      'on-hold',
      'stopped',
      'completed',
      'entered-in-error',
      'unknown',
    ],
  },
  Immunization: { status: ['completed', 'entered-in-error', 'not-done'] },
  MedicationRequest: {
    status: [
      'active',
      'on-hold',
      'cancelled',
      'completed',
      'entered-in-error',
      'stopped',
      'draft',
      'unknown',
    ],
  },
  DiagnosticReport: {
    status: [
      'registered',
      'partial',
      'preliminary',
      'final',
      'amended',
      'corrected',
      'appended',
      'cancelled',
      'entered-in-error',
      'unknown',
    ],
  },
  ServiceRequest: { status: REQUEST_STATUS },
  CarePlan: { status: REQUEST_STATUS },
  DocumentReference: { status: ['current', 'superseded', 'entered-in-error'] },
  Coverage: { status: ['active', 'cancelled', 'draft', 'entered-in-error'] },
  Patient: { gender: ADMINISTRATIVE_GENDER },
  RelatedPerson: { gender: ADMINISTRATIVE_GENDER },
  Person: { gender: ADMINISTRATIVE_GENDER },
  Practitioner: { gender: ADMINISTRATIVE_GENDER },
};

/**
 * CodeableConcept elements with a required binding: element name to the HL7 code system and its
 * allowed codes. Codings from other systems are left alone, as R4 allows extra codings.
 */
const REQUIRED_CONCEPTS: Readonly<
  Record<string, Readonly<Record<string, { system: string; codes: readonly string[] }>>>
> = {
  Condition: {
    clinicalStatus: {
      system: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
      codes: ['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'],
    },
    verificationStatus: {
      system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
      codes: [
        'unconfirmed',
        'provisional',
        'differential',
        'confirmed',
        'refuted',
        'entered-in-error',
      ],
    },
  },
  AllergyIntolerance: {
    clinicalStatus: {
      system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
      codes: ['active', 'inactive', 'resolved'],
    },
    verificationStatus: {
      system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
      codes: ['unconfirmed', 'confirmed', 'refuted', 'entered-in-error'],
    },
  },
};

const VALID: { ok: true } = Object.freeze({ ok: true });

// The tables above as lists in key order, looked up once per resource.
const REQUIRED_CODE_LISTS = new Map(
  Object.entries(REQUIRED_CODES).map(([type, bindings]) => [type, Object.entries(bindings)]),
);
const REQUIRED_CONCEPT_LISTS = new Map(
  Object.entries(REQUIRED_CONCEPTS).map(([type, bindings]) => [type, Object.entries(bindings)]),
);

/**
 * Checks the structure of a resource, not its full conformance: the resource type is one R4
 * defines, `id` has the FHIR id syntax, and the required-binding status and gender codes of common
 * resources hold codes from their R4 value sets. Missing elements are not checked. Contained
 * resources are checked the same way; their faults are reported under `<Type>.contained`.
 *
 * @param resource - a parsed resource, such as one item from `parseFhirDocument`
 */
export function validateResource(resource: unknown): { ok: true } | ResourceInvalid {
  return validateAt(resource, '');
}

function validateAt(resource: unknown, prefix: string): { ok: true } | ResourceInvalid {
  if (!isJsonObject(resource)) {
    return invalid('FHIR_MISSING_RESOURCE_TYPE', `${prefix}resourceType`);
  }
  const { resourceType } = resource;
  if (typeof resourceType !== 'string' || resourceType.length === 0) {
    return invalid('FHIR_MISSING_RESOURCE_TYPE', `${prefix}resourceType`);
  }
  if (!isR4ResourceType(resourceType)) {
    return invalid('FHIR_INVALID_RESOURCE', `${prefix}resourceType`);
  }

  const path = `${prefix}${resourceType}`;
  if (resource.id !== undefined && !isFhirId(resource.id)) {
    return invalid('FHIR_INVALID_RESOURCE', `${path}.id`);
  }

  const fault = findCodeFault(resource, resourceType) ?? findConceptFault(resource, resourceType);
  if (fault !== undefined) {
    return invalid('FHIR_INVALID_RESOURCE', `${path}.${fault}`);
  }

  // Most resources contain nothing; they need no prefix string for contained resources.
  if (resource.contained === undefined) {
    return VALID;
  }
  return validateContained(resource.contained, `${path}.contained.`);
}

function validateContained(contained: unknown, prefix: string): { ok: true } | ResourceInvalid {
  if (contained === undefined) {
    return VALID;
  }
  if (!Array.isArray(contained)) {
    return invalid('FHIR_INVALID_RESOURCE', prefix.slice(0, -1));
  }
  for (const item of contained) {
    const result = validateAt(item, prefix);
    if (!result.ok) {
      return result;
    }
  }
  return VALID;
}

// Loops rather than `find` with closures: every resource of every feed is checked here.
function findCodeFault(resource: JsonObject, resourceType: string): string | undefined {
  const bindings = REQUIRED_CODE_LISTS.get(resourceType);
  if (bindings === undefined) {
    return undefined;
  }
  for (const [element, codes] of bindings) {
    const value = resource[element];
    if (value !== undefined && !(typeof value === 'string' && codes.includes(value))) {
      return element;
    }
  }
  return undefined;
}

function findConceptFault(resource: JsonObject, resourceType: string): string | undefined {
  const bindings = REQUIRED_CONCEPT_LISTS.get(resourceType);
  if (bindings === undefined) {
    return undefined;
  }
  for (const [element, binding] of bindings) {
    if (conceptHasFault(resource[element], binding)) {
      return element;
    }
  }
  return undefined;
}

function conceptHasFault(
  concept: unknown,
  binding: { system: string; codes: readonly string[] },
): boolean {
  if (concept === undefined) {
    return false;
  }
  if (!isJsonObject(concept)) {
    return true;
  }
  const { coding } = concept;
  if (coding === undefined) {
    return false;
  }
  if (!Array.isArray(coding)) {
    return true;
  }
  for (const item of coding as unknown[]) {
    if (!isJsonObject(item)) {
      return true;
    }
    if (item.system === binding.system) {
      if (!(typeof item.code === 'string' && binding.codes.includes(item.code))) {
        return true;
      }
    }
  }
  return false;
}

function isFhirId(value: unknown): boolean {
  return typeof value === 'string' && FHIR_ID_PATTERN.test(value);
}

function invalid(code: ResourceInvalid['code'], field: string): ResourceInvalid {
  return { ok: false, code, position: { field } };
}
