export { deidentifyResource } from './deidentify.js';
export type { DeidOptions } from './deidentify.js';
export { parseFhirDocument, parseNdjsonLine } from './parse.js';
export type { FhirParseFailure, ParsedFhirDocument, ParsedNdjsonLine } from './parse.js';
export { collectIdentityMap } from './references.js';
export type { IdentityMap, ResourceKey } from './references.js';
export { resourceTypeOf } from './resource-types.js';
export { validateResource } from './validate.js';
export type { ResourceInvalid } from './validate.js';
