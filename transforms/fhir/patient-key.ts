import { keyedMemo, pseudonymize } from '../pseudonym.js';
import { isJsonObject } from './json.js';
import { simpleReferenceSlash } from './references.js';
import type { JsonObject } from './json.js';

/*
 * Which patient a resource is about, as the `patient-id` pseudonym that keys the date offset.
 * HL7 v2 uses PID-3's MR identifier; a FHIR Patient uses its MR identifier the same way, so one
 * patient gets one offset in both formats. Other resources point at their Patient; when the
 * document holds that Patient, they get its MRN pseudonym. When it does not (an Observation in
 * an NDJSON file that names `Patient/123` only), the pseudonymised reference id stands in: all
 * of that patient's resources in such files share an offset, but it is not the MRN's offset.
 */

/** Patient references of one document (`Patient/<id>`, `fullUrl`) to their pseudonym. */
export type PatientKeyMap = ReadonlyMap<string, string>;

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const PATIENT_REFERENCE = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/;
// Elements through which clinical resources name their patient, in order of preference.
const PATIENT_ELEMENTS = ['subject', 'patient', 'beneficiary', 'for', 'individual'];

/**
 * Returns the `patient-id` pseudonym of a Patient: its MR identifier (type code MR in v2-0203),
 * else its first identifier; `undefined` when it has none.
 *
 * @param patient - a Patient resource
 * @param pseudonymKey - the HMAC key from the key store
 */
export function patientIdentifierPseudonym(
  patient: JsonObject,
  pseudonymKey: Uint8Array,
): string | undefined {
  const identifiers = patient.identifier;
  if (!Array.isArray(identifiers)) {
    return undefined;
  }
  // One pass, no closures: every Patient of a feed comes through here.
  let first: string | undefined;
  for (const identifier of identifiers) {
    if (!isJsonObject(identifier)) {
      continue;
    }
    const value = identifier.value;
    if (typeof value !== 'string' || value.trim() === '') {
      continue;
    }
    if (isMedicalRecordNumber(identifier)) {
      return pseudonymize(pseudonymKey, 'patient-id', value);
    }
    first ??= value;
  }
  return first === undefined ? undefined : pseudonymize(pseudonymKey, 'patient-id', first);
}

/**
 * Maps the Patients of one document to their pseudonym, by `Patient/<id>` and by `fullUrl`.
 *
 * @param resources - the document's resources
 * @param fullUrls - their Bundle `fullUrl`s, at the same index
 * @param pseudonymKey - the HMAC key from the key store
 */
export function collectPatientKeys(
  resources: readonly unknown[],
  fullUrls: readonly (string | undefined)[],
  pseudonymKey: Uint8Array,
): Map<string, string> {
  const keys = new Map<string, string>();
  resources.forEach((resource, index) => {
    if (!isJsonObject(resource) || resource.resourceType !== 'Patient') {
      return;
    }
    const pseudonym = patientIdentifierPseudonym(resource, pseudonymKey);
    if (pseudonym === undefined) {
      return;
    }
    if (typeof resource.id === 'string') {
      keys.set(`Patient/${resource.id}`, pseudonym);
    }
    const fullUrl = fullUrls[index];
    if (fullUrl !== undefined) {
      keys.set(fullUrl, pseudonym);
    }
  });
  return keys;
}

/**
 * Returns the pseudonym that keys a resource's date offset, or `undefined` when it names no
 * patient (a Practitioner, an Organization).
 *
 * @param resource - the resource
 * @param pseudonymKey - the HMAC key from the key store
 * @param options - the document's patient map and the resource's `fullUrl`
 */
export function patientPseudonymOf(
  resource: JsonObject,
  pseudonymKey: Uint8Array,
  options: { patientKeys?: PatientKeyMap; fullUrl?: string },
): string | undefined {
  if (resource.resourceType === 'Patient') {
    const own = patientIdentifierPseudonym(resource, pseudonymKey);
    if (own !== undefined) {
      return own;
    }
    const id = typeof resource.id === 'string' ? `Patient/${resource.id}` : options.fullUrl;
    return id === undefined ? undefined : pseudonymize(pseudonymKey, 'resource', id);
  }

  for (const element of PATIENT_ELEMENTS) {
    const reference = resource[element];
    if (isJsonObject(reference)) {
      const pseudonym = referencedPatient(reference, pseudonymKey, options.patientKeys);
      if (pseudonym !== undefined) {
        return pseudonym;
      }
    }
  }
  return undefined;
}

// Limitation: a resource whose Patient is in another file (bulk NDJSON) is shifted by the offset
// of the pseudonymised reference id, not the MRN's; its intervals with HL7 v2 are not kept.
function referencedPatient(
  reference: JsonObject,
  pseudonymKey: Uint8Array,
  patientKeys: PatientKeyMap | undefined,
): string | undefined {
  const target = typeof reference.reference === 'string' ? reference.reference : undefined;
  if (target !== undefined) {
    const fromDocument = patientKeys !== undefined && patientKeys.size > 0;
    // Outside a document the answer depends on the reference and the key alone.
    const memo = fromDocument
      ? undefined
      : keyedMemo<string>(pseudonymKey, 'fhir-patient-reference');
    const remembered = memo?.get(target);
    if (remembered !== undefined) {
      return remembered;
    }
    const id = patientIdOf(target);
    const known =
      patientKeys?.get(target) ??
      (id !== undefined ? patientKeys?.get(`Patient/${id}`) : undefined);
    if (known !== undefined) {
      return known;
    }
    if (id !== undefined) {
      const pseudonym = pseudonymize(pseudonymKey, 'resource', `Patient/${id}`);
      memo?.set(target, pseudonym);
      return pseudonym;
    }
  }
  const identifier = reference.identifier;
  if (isJsonObject(identifier) && typeof identifier.value === 'string') {
    return pseudonymize(pseudonymKey, 'patient-id', identifier.value);
  }
  return undefined;
}

// The Patient id a reference names: `Patient/id` read directly, any other form by the pattern.
function patientIdOf(target: string): string | undefined {
  if (simpleReferenceSlash(target) === PATIENT_TYPE.length && target.startsWith(PATIENT_TYPE)) {
    return target.slice(PATIENT_TYPE.length + 1);
  }
  return PATIENT_REFERENCE.exec(target)?.[1];
}

const PATIENT_TYPE = 'Patient';

function isMedicalRecordNumber(identifier: JsonObject): boolean {
  const type = identifier.type;
  if (!isJsonObject(type) || !Array.isArray(type.coding)) {
    return false;
  }
  for (const coding of type.coding) {
    if (isJsonObject(coding) && coding.code === 'MR') {
      if (coding.system === undefined || coding.system === V2_0203) {
        return true;
      }
    }
  }
  return false;
}
