import { collectFhirIdentifiers } from '../deid/fhir-identifiers.js';
import { emptyKnownIdentifiers } from '../deid/free-text.js';
import type { KnownIdentifiers } from '../deid/free-text.js';
import type { JsonObject } from './json.js';
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
