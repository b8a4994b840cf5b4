import { collectFhirIdentifiers } from '../deid/fhir-identifiers.js';
import { emptyKnownIdentifiers, KnownOnRead } from '../deid/free-text.js';
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

// One is made per person resource.
class CollectedOnRead extends KnownOnRead {
  private readonly resource: JsonObject;

  constructor(resource: JsonObject) {
    super();
    this.resource = resource;
  }

  protected collect(): KnownIdentifiers {
    return collectFhirIdentifiers([this.resource]);
  }
}
