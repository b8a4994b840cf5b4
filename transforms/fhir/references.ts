import { keyedMemo, pseudonymize } from '../pseudonym.js';
import { isJsonObject } from './json.js';
import { isR4ResourceType } from './resource-types.js';

/** The resource a Bundle `fullUrl` names. `id` is absent when the entry created a new resource. */
export interface ResourceKey {
  resourceType: string;
  id?: string;
}

/**
 * Bundle `fullUrl` to the resource it names, for every resource of one document. Flattening a
 * Bundle drops its `fullUrl`s, so `urn:uuid:` references are resolved through this map instead.
 * A plain `Map` of plain objects, so it crosses the worker thread boundary intact.
 */
export type IdentityMap = ReadonlyMap<string, ResourceKey>;

/** A Reference string after de-identification, and the resource type it points to if known. */
export interface RewrittenReference {
  /** The new `reference`, or `undefined` when it has to be dropped. */
  reference: string | undefined;
  targetType: string | undefined;
}

/** Resources about a person whose own id is an identifier of that person. */
export const IDENTITY_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'Patient',
  'RelatedPerson',
  'Person',
]);

// Literal references: https://hl7.org/fhir/R4/references.html#literal
const LITERAL_REFERENCE =
  /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
// Conditional references as allowed in transactions: https://hl7.org/fhir/R4/http.html#trules
const CONDITIONAL_REFERENCE = /^(?:.*\/)?([A-Z][A-Za-z]+)\?(.*)$/;
const IDENTIFIER_QUERY = /^identifier=(?:([^&|]*)\|)?([^&|]+)$/;

/**
 * Collects, for one document, which resource each Bundle `fullUrl` names, so that
 * `deidentifyResource` can rewrite `urn:uuid:` references to the (pseudonymised) `Type/id` of
 * their target. Pass the arrays `parseFhirDocument` returned.
 *
 * @param resources - the resources of the document
 * @param fullUrls - the `fullUrl` of each resource, at the same index
 */
export function collectIdentityMap(
  resources: readonly unknown[],
  fullUrls: readonly (string | undefined)[],
): Map<string, ResourceKey> {
  const identityMap = new Map<string, ResourceKey>();
  resources.forEach((resource, index) => {
    const fullUrl = fullUrls[index];
    if (fullUrl === undefined || !isJsonObject(resource)) {
      return;
    }
    const { resourceType, id } = resource;
    if (typeof resourceType !== 'string') {
      return;
    }
    identityMap.set(fullUrl, typeof id === 'string' ? { resourceType, id } : { resourceType });
  });
  return identityMap;
}

/**
 * Returns the pseudonymous id of a Patient, RelatedPerson or Person. Resources created in a
 * transaction have no id yet; for them the entry's `fullUrl` stands in, as references use it.
 *
 * @param pseudonymKey - the HMAC key from the key store
 * @param resourceType - `Patient`, `RelatedPerson` or `Person`
 * @param id - the resource's `id`, or `undefined`
 * @param fullUrl - the Bundle entry's `fullUrl`, used only when `id` is absent
 */
export function pseudonymizeResourceId(
  pseudonymKey: Uint8Array,
  resourceType: string,
  id: string | undefined,
  fullUrl: string | undefined,
): string | undefined {
  if (id !== undefined) {
    return pseudonymize(pseudonymKey, 'resource', `${resourceType}/${id}`);
  }
  return fullUrl === undefined ? undefined : pseudonymize(pseudonymKey, 'resource', fullUrl);
}

/**
 * Rewrites a Reference string so that it still joins after de-identification: references to a
 * Patient, RelatedPerson or Person become `Type/<pseudonym>`, whether they were relative, absolute
 * or a `urn:uuid:` resolved through the identity map; other resolved `urn:` references become the
 * target's `Type/id`. A conditional reference to a person keeps only a pseudonymised identifier.
 *
 * @param reference - the `Reference.reference` value
 * @param pseudonymKey - the HMAC key from the key store
 * @param identityMap - the document's fullUrl map from `collectIdentityMap`
 * @returns the rewritten reference; it may be shared with other calls, so it is not to be changed
 */
export function rewriteReference(
  reference: string,
  pseudonymKey: Uint8Array,
  identityMap: IdentityMap,
): Readonly<RewrittenReference> {
  if (reference.startsWith('#')) {
    return { reference, targetType: undefined };
  }

  const target = identityMap.get(reference);
  if (target !== undefined) {
    return rewriteResolved(reference, target, pseudonymKey);
  }

  // Every resource of a patient names the same Patient and Encounter; outside the document's
  // map the answer depends on the reference and the key alone, so it is worked out once.
  const memo = keyedMemo<Readonly<RewrittenReference>>(pseudonymKey, 'fhir-reference');
  const known = memo.get(reference);
  if (known !== undefined) {
    return known;
  }
  const rewritten = rewriteUnresolved(reference, pseudonymKey);
  memo.set(reference, rewritten);
  return rewritten;
}

function rewriteUnresolved(reference: string, pseudonymKey: Uint8Array): RewrittenReference {
  // `Type/id`, the usual form, is read without the pattern; it is then its own `Type/id`.
  const slash = simpleReferenceSlash(reference);
  const literal = slash > 0 ? undefined : LITERAL_REFERENCE.exec(reference);
  const targetType = slash > 0 ? reference.slice(0, slash) : literal?.[1];
  if (targetType !== undefined && isR4ResourceType(targetType)) {
    if (!IDENTITY_RESOURCE_TYPES.has(targetType)) {
      return { reference, targetType };
    }
    const typeAndId = literal ? `${targetType}/${literal[2]}` : reference;
    const pseudonymId = pseudonymize(pseudonymKey, 'resource', typeAndId);
    return { reference: `${targetType}/${pseudonymId}`, targetType };
  }

  const conditional = CONDITIONAL_REFERENCE.exec(reference);
  if (conditional !== null && isR4ResourceType(conditional[1])) {
    return rewriteConditional(reference, conditional[1], conditional[2], pseudonymKey);
  }

  // Limitation: an unresolved urn: reference may name a person held in another file; it is
  // pseudonymised whole, which keeps such references joinable with each other but not with it.
  if (reference.startsWith('urn:')) {
    const pseudonymUrn = pseudonymize(pseudonymKey, 'resource', reference);
    return { reference: `urn:pseudonym:${pseudonymUrn}`, targetType: undefined };
  }
  return { reference, targetType: undefined };
}

/**
 * Returns where the slash of a reference of the form `Type/id` is, when it is exactly that: one
 * slash, a type of `[A-Z][A-Za-z]+` and an id of 1 to 64 of `[A-Za-z0-9-.]`; otherwise -1. Such
 * a reference matches the literal reference pattern with those two parts, and most do; the
 * pattern is left for the others.
 *
 * @param reference - a Reference string
 */
export function simpleReferenceSlash(reference: string): number {
  const slash = reference.indexOf('/');
  const idLength = reference.length - slash - 1;
  if (slash < 2 || idLength < 1 || idLength > 64) {
    return -1;
  }
  const first = reference.charCodeAt(0);
  if (first < UPPER_A || first > UPPER_Z) {
    return -1;
  }
  for (let index = 1; index < slash; index++) {
    if (!isLetter(reference.charCodeAt(index))) {
      return -1;
    }
  }
  for (let index = slash + 1; index < reference.length; index++) {
    const code = reference.charCodeAt(index);
    if (
      !isLetter(code) &&
      !(code >= DIGIT_0 && code <= DIGIT_9) &&
      code !== 0x2d &&
      code !== 0x2e
    ) {
      return -1;
    }
  }
  return slash;
}

const UPPER_A = 0x41;
const UPPER_Z = 0x5a;
const LOWER_A = 0x61;
const LOWER_Z = 0x7a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

function isLetter(code: number): boolean {
  return (code >= UPPER_A && code <= UPPER_Z) || (code >= LOWER_A && code <= LOWER_Z);
}

function rewriteResolved(
  reference: string,
  target: ResourceKey,
  pseudonymKey: Uint8Array,
): RewrittenReference {
  const { resourceType, id } = target;
  if (IDENTITY_RESOURCE_TYPES.has(resourceType)) {
    const pseudonymId = pseudonymizeResourceId(pseudonymKey, resourceType, id, reference);
    return { reference: `${resourceType}/${pseudonymId}`, targetType: resourceType };
  }
  if (id === undefined) {
    return { reference, targetType: resourceType };
  }
  return { reference: `${resourceType}/${id}`, targetType: resourceType };
}

function rewriteConditional(
  reference: string,
  targetType: string,
  query: string,
  pseudonymKey: Uint8Array,
): RewrittenReference {
  if (!IDENTITY_RESOURCE_TYPES.has(targetType)) {
    return { reference, targetType };
  }

  // Any other search (name, birthdate...) would carry the person's details; it is dropped.
  const identifier = IDENTIFIER_QUERY.exec(query);
  if (identifier === null) {
    return { reference: undefined, targetType };
  }

  const [, system, value] = identifier;
  const pseudonymValue = pseudonymize(pseudonymKey, 'patient-id', decodeQueryValue(value));
  const systemPart = system === undefined ? '' : `${system}|`;
  return { reference: `${targetType}?identifier=${systemPart}${pseudonymValue}`, targetType };
}

// Identifier.value is compared decoded, so `%20` and a space give the same pseudonym.
function decodeQueryValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
