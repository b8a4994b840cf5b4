/*
 * HL7 v2 field selectors for de-identification rules:
 *
 *   PID-5                              field 5 of every PID
 *   NK1-*                              every field of every NK1
 *   Z*-*                               every field of every Z-segment
 *   OBX-5 where OBX-2 in (TX, FT, ST)  OBX-5 when OBX-2.1 is one of the listed values
 *   OBX-5 where OBX-2 = ED             the same with one value
 *
 * A condition reads component 1 of a field of the same segment, compared without case.
 */

/** A parsed selector. */
export interface Hl7Selector {
  /** A segment id (`PID`) or a prefix ending in `*` (`Z*`). */
  segment: string;
  /** A field number, or `'*'` for every field. */
  field: number | '*';
  /** Only when this field of the same segment holds one of these values (upper case). */
  where?: { field: number; values: readonly string[] };
}

const SELECTOR =
  /^\s*([A-Z][A-Z0-9]{2}|[A-Z][A-Z0-9]?\*)-(\d{1,3}|\*)(?:\s+where\s+([A-Z][A-Z0-9]{2})-(\d{1,3})\s+(?:in\s*\(([^)]*)\)|=\s*(\S+)))?\s*$/;
const VALUE = /^[A-Za-z0-9_.-]{1,20}$/;

/**
 * Parses a selector such as `OBX-5 where OBX-2 in (TX, FT, ST)`. Throws a `RangeError` naming
 * the expected form when the selector does not fit it.
 *
 * @param text - the selector as written in a rules file
 */
export function parseHl7Selector(text: string): Hl7Selector {
  const match = SELECTOR.exec(text);
  if (match === null) {
    throw new RangeError('Expected an HL7 selector like PID-5, NK1-* or OBX-5 where OBX-2 in (TX)');
  }
  const [, segment, field, whereSegment, whereField, list, single] = match;
  const selector: Hl7Selector = { segment, field: field === '*' ? '*' : Number(field) };
  if (selector.field !== '*' && selector.field < 1) {
    throw new RangeError('Expected a field number of 1 or more');
  }
  if (whereSegment === undefined) {
    return selector;
  }

  if (whereSegment !== segment) {
    throw new RangeError('Expected the condition to read the same segment');
  }
  const values = (list ?? single).split(',').map((value) => value.trim());
  if (values.some((value) => !VALUE.test(value))) {
    throw new RangeError('Expected condition values of letters, digits, dot, dash or underscore');
  }
  selector.where = { field: Number(whereField), values: values.map((v) => v.toUpperCase()) };
  return selector;
}

/**
 * Tells whether a selector's segment part names a segment.
 *
 * @param selector - a parsed selector
 * @param segmentName - such as `ZPD`
 */
export function selectsSegment(selector: Hl7Selector, segmentName: string): boolean {
  if (selector.segment.endsWith('*')) {
    return segmentName.startsWith(selector.segment.slice(0, -1));
  }
  return selector.segment === segmentName;
}
