/** Fields of a segment by their HL7 position (`{ 3: 'MRN1^^^TESTHOSP^MR' }` is PID-3). */
export type Hl7Fields = Record<number, string>;

/** Standard encoding characters, as they appear in MSH-2, BHS-2 and FHS-2. */
export const HL7_ENCODING_CHARACTERS = '^~\\&';

/**
 * Builds one segment from its numbered fields; gaps become empty fields and trailing empty fields
 * are left off, as senders usually do.
 *
 * @param segmentName - such as `PID`
 * @param fields - field values by position, already escaped
 */
export function hl7Segment(segmentName: string, fields: Hl7Fields): string {
  return [segmentName, ...numberedFields(fields, 1)].join('|');
}

/**
 * Builds an MSH, BHS or FHS segment. Field 1 of these is the field separator itself and field 2
 * the encoding characters (HL7 v2.5.1 section 2.14.9), so numbering starts at 3.
 *
 * @param segmentName - `MSH`, `BHS` or `FHS`
 * @param fields - field values from position 3, already escaped
 */
export function hl7HeaderSegment(segmentName: 'MSH' | 'BHS' | 'FHS', fields: Hl7Fields): string {
  return [`${segmentName}|${HL7_ENCODING_CHARACTERS}`, ...numberedFields(fields, 3)].join('|');
}

/**
 * Escapes text for an HL7 v2 field (HL7 v2.5.1 section 2.7): the escape character first, then
 * the field, component, repetition and subcomponent separators.
 *
 * @param text - plain text
 */
export function escapeHl7(text: string): string {
  return text
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/~/g, '\\R\\')
    .replace(/&/g, '\\T\\');
}

function numberedFields(fields: Hl7Fields, firstPosition: number): string[] {
  const positions = Object.keys(fields).map(Number);
  const lastPosition = Math.max(firstPosition - 1, ...positions);
  const values: string[] = [];
  for (let position = firstPosition; position <= lastPosition; position++) {
    values.push(fields[position] ?? '');
  }
  return values;
}
