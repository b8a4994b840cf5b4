import { createRequire } from 'node:module';

import type { Model } from 'fhirpath';

import { elementRulesFor } from './deid-rules.js';
import { ADDRESS, FREE_TEXT, kindOfElement, textKindOf } from './deid-walk.js';
import type { TopLevelRule } from './deid-walk.js';
import { isR4ResourceType } from './resource-types.js';

/*
 * Which elements FHIR R4 defines where, as the preset's walk reads it: each object the walk enters
 * has a type (a datatype, a resource type, or a backbone element's path), and each of its element
 * names is looked up there. What R4 does not define where it sits is removed, since nothing says
 * what it holds. The definitions are the R4 model that ships with fhirpath (`path2Type`, with
 * choice elements already spelt out per allowed type, `pathsDefinedElsewhere` and
 * `type2Parent`), not a table of our own. An element's type, what its name says about a string
 * value and, at the top level of a resource, its rule are worked out once per type and name.
 */

// What an object of a type holds: elements by name; nothing, being a value; any resource.
const COMPLEX = 0;
const PRIMITIVE = 1;
const ANY_RESOURCE = 2;

/** A type as the walk uses it: what an object sitting there may hold. */
export class R4Type {
  /** The prefix of its elements in the model: `HumanName`, `Patient`, `Patient.contact`. */
  readonly path: string;
  /** `COMPLEX`, `PRIMITIVE` or `ANY_RESOURCE`. */
  readonly form: number;
  /** A resource type's own elements have rules, and `resourceType` among them. */
  readonly isResource: boolean;
  /** Slots by element name, `null` for a name R4 does not define here. */
  readonly slots = new Map<string, ElementSlot | null>();

  constructor(path: string, form: number, isResource: boolean) {
    this.path = path;
    this.form = form;
    this.isResource = isResource;
  }
}

/** What the walk needs to know about one element name of one type. */
export interface ElementSlot {
  /** The element's own type, for what it holds. */
  type: R4Type;
  /** What the path, type or name says about the value (`kindOfElement`). */
  kind: number;
  /** At the top level of a resource, the element's rule, or its text kind when it has none. */
  rule: TopLevelRule;
}

/** Stands for every primitive type: a value, with no elements of its own. */
export const PRIMITIVE_TYPE = new R4Type('', PRIMITIVE, false);
/** Where a resource of any type sits: `Bundle.entry.resource`, `Parameters.parameter.resource`. */
export const ANY_RESOURCE_TYPE = new R4Type('', ANY_RESOURCE, false);

// Names come from the input, so each type's slots stop growing at a bound. The type with the most
// elements, ElementDefinition, has 200 with its choice elements spelt out, and about as many
// primitive extensions.
const MAX_SLOTS_PER_TYPE = 1024;
const UNDERSCORE = 0x5f;

// Types by model path, and resource types by name; the model bounds how many there are.
const TYPES = new Map<string, R4Type>();
const RESOURCE_TYPES = new Map<string, R4Type>();

let model: Model | undefined;

/**
 * Returns the type of a resource, or `undefined` when R4 defines no resource of that type.
 *
 * @param resourceType - the resource's `resourceType`
 */
export function resourceR4Type(resourceType: string): R4Type | undefined {
  const known = RESOURCE_TYPES.get(resourceType);
  if (known !== undefined || !isR4ResourceType(resourceType)) {
    return known;
  }
  const type = new R4Type(resourceType, COMPLEX, true);
  RESOURCE_TYPES.set(resourceType, type);
  return type;
}

/**
 * Returns the slot of an element name in a type, or `null` when R4 does not define that name
 * there.
 *
 * @param type - the type of the object the element sits in
 * @param name - the element's name as sent
 */
export function slotOf(type: R4Type, name: string): ElementSlot | null {
  const known = type.slots.get(name);
  if (known !== undefined) {
    return known;
  }
  const slot = createSlot(type, name);
  if (type.slots.size < MAX_SLOTS_PER_TYPE) {
    type.slots.set(name, slot);
  }
  return slot;
}

function createSlot(type: R4Type, name: string): ElementSlot | null {
  const elementType = elementTypeOf(type, name);
  if (elementType === undefined) {
    return null;
  }
  const kind = kindOfElement(type.path, name, typeNameOf(type, name));
  if (!type.isResource) {
    return { type: elementType, kind, rule: kind };
  }
  const rules = elementRulesFor(type.path);
  // At the top level, what the path or type says counts; what the name alone says of a nested
  // identifier does not, the table's identifier rules being the top level's.
  const pathRule = kind === FREE_TEXT || kind >= ADDRESS ? kind : textKindOf(name);
  return {
    type: elementType,
    kind,
    rule: Object.hasOwn(rules, name) ? rules[name] : pathRule,
  };
}

function elementTypeOf(type: R4Type, name: string): R4Type | undefined {
  if (type.form !== COMPLEX) {
    return undefined;
  }
  if (name === 'resourceType') {
    return type.isResource ? PRIMITIVE_TYPE : undefined;
  }
  // A primitive's id and extensions sit beside it under `_name` (`_birthDate`, `_given`):
  // https://hl7.org/fhir/R4/json.html#primitive
  if (name.charCodeAt(0) === UNDERSCORE) {
    const valueType = typeNameOf(type, name.slice(1));
    return valueType !== undefined && isPrimitiveName(valueType) ? typeAt('Element') : undefined;
  }

  const typeName = typeNameOf(type, name);
  if (typeName === undefined) {
    // A backbone element that repeats another's definition (`Questionnaire.item.item`).
    const elsewhere = own(loadModel().pathsDefinedElsewhere, `${type.path}.${name}`);
    return elsewhere === undefined ? undefined : typeAt(elsewhere);
  }
  if (typeName === 'BackboneElement' || typeName === 'Element') {
    return typeAt(`${type.path}.${name}`);
  }
  if (typeName === 'Resource') {
    return ANY_RESOURCE_TYPE;
  }
  return isPrimitiveName(typeName) ? PRIMITIVE_TYPE : typeAt(typeName);
}

// The model lists every element of a type, inherited ones included, except for the profiles of
// Quantity (SimpleQuantity, MoneyQuantity), which only name their parent.
function typeNameOf(type: R4Type, name: string): string | undefined {
  const { path2Type, type2Parent } = loadModel();
  for (let path: string | undefined = type.path; path !== undefined;) {
    const typeName = own(path2Type, `${path}.${name}`);
    if (typeName !== undefined) {
      return typeName;
    }
    path = own(type2Parent, path);
  }
  return undefined;
}

// FHIR's primitive types are the lower-case ones (`string`, `dateTime`); an `id` or an
// extension's `url` is a FHIRPath System.String.
function isPrimitiveName(typeName: string): boolean {
  const first = typeName.charCodeAt(0);
  return (first >= 0x61 && first <= 0x7a) || typeName.startsWith('System.');
}

// A datatype by name, or a backbone element by path.
function typeAt(path: string): R4Type {
  let type = TYPES.get(path);
  if (type === undefined) {
    type = new R4Type(path, COMPLEX, false);
    TYPES.set(path, type);
  }
  return type;
}

function own(table: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

// The model takes a few milliseconds to load; workers that see no FHIR never load it.
function loadModel(): Model {
  if (model === undefined) {
    const require = createRequire(import.meta.url);
    model = require('fhirpath/fhir-context/r4') as Model;
  }
  return model;
}
