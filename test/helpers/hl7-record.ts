import { deidentifyHl7ToJson, parseFieldPath, parseHl7 } from '../../transforms/hl7/index.js';
import type { Hl7JsonRecord, Hl7JsonValue } from '../../transforms/hl7/index.js';
import type { DeidContext } from '../../transforms/types.js';

type Leaf = string | null;

/**
 * Parses one HL7 message and returns its de-identified NDJSON record; throws when it does not
 * parse.
 *
 * @param text - the message
 * @param ctx - key and rules
 */
export function deidentifiedRecord(text: string, ctx: DeidContext): Hl7JsonRecord {
  const parsed = parseHl7(text, 0);
  if (!parsed.ok) {
    throw new Error(`Expected the test message to parse, got ${parsed.code}`);
  }
  return deidentifyHl7ToJson(parsed.message, ctx);
}

/**
 * Reads a field path (`PID-11`, `PID-11.5`, `PID-3[2].1`) of the first segment of that name in
 * an HL7 NDJSON record, written back as ER7 text with the standard delimiters and no escaping:
 * a test compares it with what it expects the field to say. Reads `null` where the addressed
 * part is HL7's explicit null, '' where it is absent.
 *
 * @param record - an NDJSON record from `hl7ToJson` or `deidentifyHl7ToJson`
 * @param path - the field path
 */
export function recordText(record: Hl7JsonRecord, path: string): string | null {
  const { segmentName, field, repetition, component, subcomponent } = parseFieldPath(path);
  const segment = record.segments.find((candidate) => candidate.segment === segmentName);
  const value: Hl7JsonValue | undefined = segment?.fields[`${segmentName}-${field}`];
  if (value === undefined) {
    return '';
  }
  if (value === null) {
    return null;
  }

  const repetitions = levels(value);
  if (repetition === undefined && component === undefined) {
    return join(
      repetitions.map((r) =>
        join(
          r.map((c) => join(c, '&')),
          '^',
        ),
      ),
      '~',
    );
  }
  const components = repetitions[(repetition ?? 1) - 1] ?? [];
  if (component === undefined) {
    return join(
      components.map((c) => join(c, '&')),
      '^',
    );
  }
  const subcomponents = components[component - 1] ?? [];
  if (subcomponent === undefined) {
    return join(subcomponents, '&');
  }
  return subcomponents[subcomponent - 1] ?? '';
}

/** A field value as repetitions of components of subcomponents. */
function levels(value: Hl7JsonValue): Leaf[][][] {
  const asArray = <T>(item: T | T[]): T[] => (Array.isArray(item) ? item : [item]);
  return asArray(value).map((repetition) =>
    asArray(repetition).map((component) => asArray(component)),
  );
}

/** Parts joined; a lone explicit null reads as null, one among others as `""`. */
function join(parts: Leaf[], separator: string): string | null {
  if (parts.length === 1) {
    return parts[0];
  }
  return parts.map((part) => part ?? '""').join(separator);
}
