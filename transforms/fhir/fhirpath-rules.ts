import type { CompiledFhirRule, FhirPathNode } from '../deid/compile.js';
import { encryptField } from '../deid/field-crypto.js';
import { perturbNumber } from '../deid/perturb.js';
import type { RecordDeid } from '../deid/record-context.js';
import type { DeidMethod } from '../deid/rules.js';
import { pseudonymize } from '../pseudonym.js';
import {
  encryptData,
  ENCRYPTED_EXTENSION_URL,
  generalizeValue,
  MASKED_DATA_EXTENSION,
  shiftIfDate,
} from './deid-values.js';
import { isJsonObject } from './json.js';
import type { JsonObject } from './json.js';

/*
 * A feed's FHIRPath rules run on a copy of each resource before the preset's walk. Every node an
 * expression selects is changed in place and remembered, so the walk copies it as it is: the
 * first rule to select an element decides, as in the HL7 rules.
 */

/**
 * A feed's FHIRPath rule that failed on a resource: an expression that compiles but cannot be
 * evaluated on this data (`Patient.birthDate + 5`), or a method that cannot apply to what it
 * selected. It names the rule's place in the rules file, never the data or fhirpath's message,
 * which may quote it. The resource is rejected as `DEID_RULE_FAILED`; the rest of the batch goes
 * on, and `reprocess` brings the rejected resources back once the rule is fixed.
 */
export class FhirPathRuleError extends Error {
  /** The rule's place in the rules file, such as `fhir.2`. */
  readonly place: string;

  constructor(place: string) {
    super(`De-identification rule ${place} failed on a resource`);
    this.name = 'FhirPathRuleError';
    this.place = place;
  }
}

/** Stands in for an element a rule removed; the walk drops it. */
export const REDACTED: unique symbol = Symbol('redacted');

/** Elements rules have decided: objects by identity, primitives by parent and property. */
export interface HandledNodes {
  objects: WeakSet<object>;
  properties: WeakMap<object, Set<string>>;
}

/**
 * Applies the rules whose expression can start at this resource's type.
 *
 * @param resource - a copy of the resource; modified in place
 * @param rules - compiled FHIRPath rules, in order
 * @param record - key, offset, scrubber of the record
 * @returns what was decided, or `undefined` when no rule selected anything
 */
export function applyFhirPathRules(
  resource: JsonObject,
  rules: readonly CompiledFhirRule[],
  record: RecordDeid,
): HandledNodes | undefined {
  let handled: HandledNodes | undefined;
  for (const rule of rules) {
    if (rule.resourceType !== undefined && rule.resourceType !== resource.resourceType) {
      continue;
    }
    try {
      for (const node of rule.evaluate(resource)) {
        handled ??= { objects: new WeakSet(), properties: new WeakMap() };
        applyToNode(node, rule, record, handled);
      }
    } catch {
      // fhirpath's message may quote the resource; only the rule's place leaves.
      throw new FhirPathRuleError(rule.place);
    }
  }
  return handled;
}

/**
 * Tells whether a rule decided a property of an element.
 *
 * @param handled - from {@link applyFhirPathRules}
 * @param parent - the element
 * @param name - the property
 */
export function isHandled(
  handled: HandledNodes | undefined,
  parent: object,
  name: string,
): boolean {
  return handled?.properties.get(parent)?.has(name) ?? false;
}

// Limitation: a primitive inside an array (one `given` of several) is remembered by position
// only as changed in place; the walk may still apply the preset to it (a date shifted twice).
function applyToNode(
  node: FhirPathNode,
  rule: CompiledFhirRule,
  record: RecordDeid,
  handled: HandledNodes,
): void {
  const parent = node?.parentResNode?.data;
  const name = node?.propName;
  if (!isJsonObject(parent) || typeof name !== 'string') {
    return;
  }
  const container = parent[name];
  const index = typeof node.index === 'number' && Array.isArray(container) ? node.index : undefined;
  const current = index === undefined ? container : (container as unknown[])[index];
  if (current === REDACTED || (isJsonObject(current) && handled.objects.has(current))) {
    return;
  }
  if (index === undefined && isHandled(handled, parent, name)) {
    return;
  }

  const next = applyMethod(rule.method, current, rule.field, record);
  if (index === undefined) {
    parent[name] = next;
    const properties = handled.properties.get(parent) ?? new Set<string>();
    properties.add(name);
    handled.properties.set(parent, properties);
  } else {
    (container as unknown[])[index] = next;
  }
  if (isJsonObject(next)) {
    handled.objects.add(next);
  }
}

function applyMethod(
  method: DeidMethod,
  value: unknown,
  field: string,
  record: RecordDeid,
): unknown {
  switch (method.method) {
    case 'keep':
      return value;
    case 'redact':
      return REDACTED;
    case 'substitute':
      return isJsonObject(value) || Array.isArray(value) ? REDACTED : method.value;
    case 'cryptoHash': {
      const namespace = method.namespace ?? 'other';
      if (typeof value === 'string') {
        return pseudonymize(record.pseudonymKey, namespace, value);
      }
      if (isJsonObject(value) && typeof value.value === 'string') {
        const { _value: _dropped, ...rest } = value;
        return { ...rest, value: pseudonymize(record.pseudonymKey, namespace, value.value) };
      }
      return REDACTED;
    }
    case 'dateShift':
      return typeof value === 'string' ? shiftIfDate(value, record) : REDACTED;
    case 'generalize':
      return generalizeValue(value, method.to, record) ?? REDACTED;
    case 'perturb':
      return perturb(value, method.span, method.roundTo, field, record);
    case 'encrypt':
      return encryptValue(value, field, record);
    case 'scrub':
      return typeof value === 'string' ? record.scrubber().scrub(value) : value;
    case 'embeddedDocument':
      return isJsonObject(value) ? embeddedAttachment(value, field, record) : REDACTED;
  }
}

function perturb(
  value: unknown,
  span: number,
  roundTo: number | undefined,
  field: string,
  record: RecordDeid,
): unknown {
  if (typeof value === 'number') {
    const moved = perturbNumber(record.pseudonymKey, field, String(value), span, roundTo);
    return moved === undefined ? REDACTED : Number(moved);
  }
  if (isJsonObject(value) && typeof value.value === 'number') {
    const moved = perturbNumber(record.pseudonymKey, field, String(value.value), span, roundTo);
    return moved === undefined ? REDACTED : { ...value, value: Number(moved) };
  }
  return REDACTED;
}

// Limitation: an encrypted number or boolean becomes a string, which a FHIR validator refuses;
// an encrypted complex element becomes an element with only the encrypted extension.
function encryptValue(value: unknown, field: string, record: RecordDeid): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return encryptField(record.fieldKeys(), field, String(value));
  }
  const token = encryptField(record.fieldKeys(), field, JSON.stringify(value));
  return { extension: [{ url: ENCRYPTED_EXTENSION_URL, valueString: token }] };
}

/**
 * Drops an attachment's data with the `masked` marker, or encrypts it when the feed says so.
 *
 * @param attachment - an Attachment with `data`
 * @param field - names the field for the associated data
 * @param record - the record's rules and keys
 */
export function embeddedAttachment(
  attachment: JsonObject,
  field: string,
  record: RecordDeid,
): JsonObject {
  const { data, _data: _dropped, ...rest } = attachment;
  if (typeof data !== 'string') {
    return rest;
  }
  const extension = Array.isArray(rest.extension) ? rest.extension : [];
  if (record.compiled.rules.embeddedDocuments === 'encrypt') {
    return {
      ...rest,
      data: encryptData(data, field, record),
      extension: [...extension, { url: ENCRYPTED_EXTENSION_URL, valueCode: 'data' }],
    };
  }
  return { ...rest, extension: [...extension, MASKED_DATA_EXTENSION] };
}
