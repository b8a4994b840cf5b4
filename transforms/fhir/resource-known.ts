import { collectFhirIdentifiers } from '../deid/fhir-identifiers.js';
import { emptyKnownIdentifiers } from '../deid/free-text.js';
import type { KnownIdentifiers } from '../deid/free-text.js';
import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { patientPseudonymOf } from './patient-key.js';
import type { PatientKeyMap } from './patient-key.js';
import { IDENTITY_RESOURCE_TYPES } from './references.js';

const NOTHING_KNOWN: KnownIdentifiers = Object.freeze(emptyKnownIdentifiers());

/**
 * What a resource outside a document (an NDJSON line) knows about its person: the identifiers
 * of its own structured fields when it is a Patient, RelatedPerson or Person, or contains one.
 * They are collected on first read: the scrubber reads them only when the resource has free
 * text, and most person resources (a generated narrative is dropped, not scrubbed) have none.
 *
 * @param resource - the resource, not modified while the result is in use
 */
export function knownOfResource(resource: JsonObject): KnownIdentifiers {
  const person = IDENTITY_RESOURCE_TYPES.has(String(resource.resourceType));
  if (!person && !Array.isArray(resource.contained)) {
    return NOTHING_KNOWN;
  }
  return new CollectedOnRead(resource);
}

// A class with getters rather than closures: one is made per person resource.
class CollectedOnRead implements KnownIdentifiers {
  private readonly resource: JsonObject;
  private collected: KnownIdentifiers | undefined;

  constructor(resource: JsonObject) {
    this.resource = resource;
  }

  get names(): string[] {
    return this.all().names;
  }

  get ids(): string[] {
    return this.all().ids;
  }

  get phones(): string[] {
    return this.all().phones;
  }

  get addresses(): string[] {
    return this.all().addresses;
  }

  get zips(): string[] {
    return this.all().zips;
  }

  get dates(): string[] {
    return this.all().dates;
  }

  get emails(): string[] {
    return this.all().emails;
  }

  private all(): KnownIdentifiers {
    this.collected ??= collectFhirIdentifiers([this.resource]);
    return this.collected;
  }
}

/**
 * What the resources of one document (a Bundle) know about their persons, by patient. The free
 * text of a resource is scrubbed of what its own patient's Patient, RelatedPerson and Person
 * resources say, plus what persons tied to no patient say: every identifier of the document
 * for every resource would make a Bundle of many patients cost its size squared. A document
 * with one patient or none gives every resource all of it, as before.
 */
export class DocumentKnown {
  private readonly byPatient = new Map<string, KnownIdentifiers>();
  private readonly everything: KnownIdentifiers;
  private readonly options: { patientKeys: PatientKeyMap; fullUrl?: string };
  private readonly pseudonymKey: Uint8Array;

  /**
   * @param resources - the document's resources
   * @param fullUrls - their entries' fullUrls, by position
   * @param patientKeys - the document's patients, from `collectPatientKeys`
   * @param pseudonymKey - the HMAC key from the key store
   */
  constructor(
    resources: readonly unknown[],
    fullUrls: readonly (string | undefined)[],
    patientKeys: PatientKeyMap,
    pseudonymKey: Uint8Array,
  ) {
    this.pseudonymKey = pseudonymKey;
    this.options = { patientKeys };
    if (new Set(patientKeys.values()).size <= 1) {
      this.everything = collectFhirIdentifiers(resources);
      return;
    }

    const unattributed = emptyKnownIdentifiers();
    this.everything = unattributed;
    const people: Array<[string, JsonObject]> = [];
    for (let index = 0; index < resources.length; index++) {
      const resource = resources[index];
      if (!isJsonObject(resource) || !hasPersons(resource)) {
        continue;
      }
      this.options.fullUrl = fullUrls[index];
      const patient = patientPseudonymOf(resource, pseudonymKey, this.options);
      if (patient === undefined) {
        collectFhirIdentifiers([resource], unattributed);
      } else {
        people.push([patient, resource]);
      }
    }
    for (const [patient, resource] of people) {
      let known = this.byPatient.get(patient);
      if (known === undefined) {
        known = copyOf(unattributed);
        this.byPatient.set(patient, known);
      }
      collectFhirIdentifiers([resource], known);
    }
  }

  /**
   * The identifiers a resource's free text is scrubbed of.
   *
   * @param resource - one of the document's resources
   * @param fullUrl - its entry's fullUrl
   */
  of(resource: JsonObject, fullUrl: string | undefined): KnownIdentifiers {
    if (this.byPatient.size === 0) {
      return this.everything;
    }
    this.options.fullUrl = fullUrl;
    const patient = patientPseudonymOf(resource, this.pseudonymKey, this.options);
    return (patient === undefined ? undefined : this.byPatient.get(patient)) ?? this.everything;
  }
}

function hasPersons(resource: JsonObject): boolean {
  return (
    IDENTITY_RESOURCE_TYPES.has(String(resource.resourceType)) || Array.isArray(resource.contained)
  );
}

function copyOf(known: KnownIdentifiers): KnownIdentifiers {
  return {
    names: [...known.names],
    ids: [...known.ids],
    phones: [...known.phones],
    addresses: [...known.addresses],
    zips: [...known.zips],
    dates: [...known.dates],
    emails: [...known.emails],
  };
}
