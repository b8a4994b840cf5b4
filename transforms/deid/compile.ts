import { createRequire } from 'node:module';

import { isR4ResourceType } from '../fhir/resource-types.js';
import type { ScrubOptions } from './free-text.js';
import { parseHl7Selector, selectsSegment } from './hl7-selector.js';
import type { Hl7Selector } from './hl7-selector.js';
import { hl7PresetRules } from './presets.js';
import { DEFAULT_DATE_SHIFT_RANGE_DAYS, hashDeidRules } from './rules.js';
import type { DeidMethod, DeidRule, DeidRules } from './rules.js';

/** An HL7 rule with its selector parsed. */
export interface CompiledHl7Rule {
  selector: Hl7Selector;
  method: DeidMethod;
}

/** A FHIRPath node as fhirpath.js returns it with `resolveInternalTypes: false`. */
export interface FhirPathNode {
  data: unknown;
  path: string | null;
  propName: string | null;
  index: number | null;
  parentResNode: { data: unknown } | null;
}

/** A FHIR rule with its expression compiled. */
export interface CompiledFhirRule {
  /** The resource type the expression starts from, or `undefined` for any. */
  resourceType: string | undefined;
  /** The field name bound into encrypted values as associated data. */
  field: string;
  /** Where the rule is in the feed's rules file, such as `fhir.2`; named when it fails. */
  place: string;
  evaluate: (resource: unknown) => FhirPathNode[];
  method: DeidMethod;
}

/** Rules ready to apply: compiled once per rules hash in each worker. */
export interface CompiledDeidRules {
  rules: DeidRules;
  hash: string;
  /** False for the `none` preset with no rules of the feed's own. */
  active: boolean;
  hl7: readonly CompiledHl7Rule[];
  fhir: readonly CompiledFhirRule[];
  scrubOptions: ScrubOptions;
  /** HL7 rules that can apply to a segment, in order; filled as segments are seen. */
  hl7RulesFor(segmentName: string): readonly CompiledHl7Rule[];
}

/** The rules of a feed that names no preset and no rules file. */
export const DEFAULT_DEID_RULES: DeidRules = Object.freeze({
  preset: 'safe-harbor',
  dateShiftRangeDays: DEFAULT_DATE_SHIFT_RANGE_DAYS,
  embeddedDocuments: 'drop',
  hl7: [],
  fhir: [],
}) as DeidRules;

// Each worker keeps the few rule sets its feeds use; a task's rules are compiled once.
const byHash = new Map<string, CompiledDeidRules>();
const byObject = new WeakMap<DeidRules, CompiledDeidRules>();
const MAX_CACHED_RULE_SETS = 64;
const last: { rules?: DeidRules; compiled?: CompiledDeidRules } = {};

/**
 * Returns compiled rules, from the worker's cache when this rules set was seen before.
 *
 * @param rules - the rules a task carries
 * @param hash - their hash from `hashDeidRules`, when the caller has it
 */
export function compileDeidRules(rules: DeidRules, hash?: string): CompiledDeidRules {
  // Every record of a task asks with the same rules object.
  if (rules === last.rules && last.compiled !== undefined) {
    return last.compiled;
  }
  const known = byObject.get(rules);
  if (known !== undefined) {
    last.rules = rules;
    last.compiled = known;
    return known;
  }
  const key = hash ?? hashDeidRules(rules);
  let compiled = byHash.get(key);
  if (compiled === undefined) {
    compiled = compile(rules, key);
    if (byHash.size >= MAX_CACHED_RULE_SETS) {
      byHash.clear();
    }
    byHash.set(key, compiled);
  }
  byObject.set(rules, compiled);
  last.rules = rules;
  last.compiled = compiled;
  return compiled;
}

/**
 * Compiles one FHIRPath expression, throwing when it is not valid; for rules file checks.
 *
 * @param expression - the FHIRPath expression
 */
export function checkFhirPath(expression: string): void {
  const { fhirpath, model } = loadFhirPath();
  fhirpath.compile(expression, model);
}

function compile(rules: DeidRules, hash: string): CompiledDeidRules {
  const hl7 = [...rules.hl7, ...hl7PresetRules(rules.preset)].map(compileHl7Rule);
  const fhir = rules.fhir.map((rule, index) => compileFhirRule(rule, index));
  const bySegment = new Map<string, readonly CompiledHl7Rule[]>();
  return {
    rules,
    hash,
    active: rules.preset !== 'none' || rules.hl7.length > 0 || rules.fhir.length > 0,
    hl7,
    fhir,
    scrubOptions: { dates: rules.preset !== 'limited-data-set' },
    hl7RulesFor: (segmentName) => {
      let list = bySegment.get(segmentName);
      if (list === undefined) {
        list = hl7.filter((rule) => selectsSegment(rule.selector, segmentName));
        bySegment.set(segmentName, list);
      }
      return list;
    },
  };
}

function compileHl7Rule(rule: DeidRule): CompiledHl7Rule {
  const { path, ...method } = rule;
  return { selector: parseHl7Selector(path), method: method as DeidMethod };
}

function compileFhirRule(rule: DeidRule, index: number): CompiledFhirRule {
  const { path, ...method } = rule;
  const { fhirpath, model } = loadFhirPath();
  const evaluate = fhirpath.compile(path, model, { resolveInternalTypes: false }) as (
    resource: unknown,
  ) => FhirPathNode[];
  const first = /^\s*([A-Z][A-Za-z]+)\b/.exec(path)?.[1];
  const resourceType = first !== undefined && isR4ResourceType(first) ? first : undefined;
  return {
    resourceType,
    field: `fhir:${path}`,
    place: `fhir.${index}`,
    evaluate,
    method: method as DeidMethod,
  };
}

interface FhirPathModule {
  compile(path: string, model?: unknown, options?: Record<string, unknown>): unknown;
}

let fhirPathModule: { fhirpath: FhirPathModule; model: unknown } | undefined;

// fhirpath and its R4 model take about a quarter of a second to load; HL7-only workers skip it.
function loadFhirPath(): { fhirpath: FhirPathModule; model: unknown } {
  if (fhirPathModule === undefined) {
    const require = createRequire(import.meta.url);
    fhirPathModule = {
      fhirpath: require('fhirpath') as FhirPathModule,
      model: require('fhirpath/fhir-context/r4') as unknown,
    };
  }
  return fhirPathModule;
}
