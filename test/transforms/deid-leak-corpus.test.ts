import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  collectFhirIdentifiers,
  fhirBaselineText,
} from '../../transforms/deid/fhir-identifiers.js';
import { collectHl7Identifiers, hl7BaselineText } from '../../transforms/deid/hl7-identifiers.js';
import { checkLeaks } from '../../transforms/deid/leak-check.js';
import type { LeakKind } from '../../transforms/deid/leak-check.js';
import {
  collectIdentityMap,
  collectPatientKeys,
  deidentifyResource,
  parseFhirDocument,
  parseNdjsonLine,
} from '../../transforms/fhir/index.js';
import {
  decodeHl7Bytes,
  deidentifyHl7ToJson,
  parseHl7,
  splitHl7File,
} from '../../transforms/hl7/index.js';
import type { Hl7JsonRecord, Hl7JsonValue, Hl7Message } from '../../transforms/hl7/index.js';
import { corpusAvailable, corpusPath } from '../helpers/corpus.js';

const CTX = { pseudonymKey: new Uint8Array(32).fill(0x3c), referenceYear: 2026 };

interface Tally {
  records: number;
  searched: number;
  /** Identifiers of the record that its own free text (OBX-5 TX/FT/ST, NTE-3) repeats. */
  inFreeText: number;
  /** Of those, how many the de-identified free text still holds. */
  leftInFreeText: number;
  leaks: Partial<Record<LeakKind, number>>;
  where: string[];
}

function newTally(): Tally {
  return { records: 0, searched: 0, inFreeText: 0, leftInFreeText: 0, leaks: {}, where: [] };
}

function add(tally: Tally, file: string, searched: number, leaks: LeakKind[]): void {
  tally.records++;
  tally.searched += searched;
  for (const kind of leaks) {
    tally.leaks[kind] = (tally.leaks[kind] ?? 0) + 1;
    tally.where.push(`${file}: ${kind}`);
  }
}

function listFiles(folder: string): string[] {
  return readdirSync(corpusPath(folder), { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(folder, entry.name));
}

function checkHl7File(file: string, tally: Tally): void {
  const split = splitHl7File(readFileSync(corpusPath(file)), { acceptCountMismatch: true });
  if (!split.ok) {
    return;
  }
  const bytes = readFileSync(corpusPath(file));
  split.messages.forEach((range, index) => {
    const decoded = decodeHl7Bytes(bytes.subarray(range.start, range.end));
    if (!decoded.ok) {
      return;
    }
    const parsed = parseHl7(decoded.text, index);
    if (!parsed.ok) {
      return;
    }
    const known = collectHl7Identifiers(parsed.message);
    const baseline = hl7BaselineText(parsed.message);
    tally.inFreeText += checkLeaks(known, freeTextOf(parsed.message)).leaks.length;
    const record = deidentifyHl7ToJson(parsed.message, CTX);
    tally.leftInFreeText += checkLeaks(known, freeTextOfRecord(record)).leaks.length;
    const report = checkLeaks(known, JSON.stringify(record), baseline);
    add(tally, file, report.searched, report.leaks);
  });
}

function freeTextOf(message: Hl7Message): string {
  const texts = message.segments.flatMap((segment) => {
    if (segment.name === 'NTE') {
      return [segment.getFieldText(3)];
    }
    const type = segment.getValue(2, 1, 1) ?? '';
    return segment.name === 'OBX' && ['TX', 'FT', 'ST'].includes(type)
      ? [segment.getFieldText(5)]
      : [];
  });
  return texts.join('\n');
}

/** The same free-text fields in a de-identified record, their leaves one per line. */
function freeTextOfRecord(record: Hl7JsonRecord): string {
  const leaves = (value: Hl7JsonValue | undefined): string[] =>
    value === undefined || value === null
      ? []
      : Array.isArray(value)
        ? value.flatMap((part) => leaves(part as Hl7JsonValue))
        : [value];
  const texts = record.segments.flatMap((segment) => {
    if (segment.segment === 'NTE') {
      return leaves(segment.fields['NTE-3']);
    }
    const type = leaves(segment.fields['OBX-2'])[0] ?? '';
    return segment.segment === 'OBX' && ['TX', 'FT', 'ST'].includes(type)
      ? leaves(segment.fields['OBX-5'])
      : [];
  });
  return texts.join('\n');
}

function checkFhirFile(file: string, tally: Tally): void {
  const text = readFileSync(corpusPath(file), 'utf8');
  if (file.endsWith('.ndjson')) {
    text.split('\n').forEach((line, index) => {
      const parsed = line.trim() === '' ? undefined : parseNdjsonLine(line, index + 1);
      if (parsed?.ok) {
        const known = collectFhirIdentifiers([parsed.resource]);
        const output = JSON.stringify(deidentifyResource(parsed.resource, CTX));
        const report = checkLeaks(known, output, fhirBaselineText([parsed.resource]));
        add(tally, file, report.searched, report.leaks);
      }
    });
    return;
  }
  const parsed = parseFhirDocument(text);
  if (!parsed.ok) {
    return;
  }
  const identityMap = collectIdentityMap(parsed.resources, parsed.fullUrls);
  const patientKeys = collectPatientKeys(parsed.resources, parsed.fullUrls, CTX.pseudonymKey);
  const known = collectFhirIdentifiers(parsed.resources);
  const outputs = parsed.resources.map((resource, index) =>
    deidentifyResource(resource, CTX, {
      identityMap,
      fullUrl: parsed.fullUrls[index],
      patientKeys,
      known,
    }),
  );
  const report = checkLeaks(known, JSON.stringify(outputs), fhirBaselineText(parsed.resources));
  add(tally, file, report.searched, report.leaks);
}

describe.skipIf(!corpusAvailable)('leak check over the shared corpus', () => {
  it('finds no structured identifier of an HL7 v2 message in its de-identified output', () => {
    const tally = newTally();
    for (const file of listFiles('hl7v2')) {
      checkHl7File(file, tally);
    }
    console.info(
      `HL7 v2 leak check: ${tally.records} messages, ${tally.searched} identifiers; ` +
        `${tally.inFreeText} repeated in free text, ${tally.leftInFreeText} left after scrubbing`,
    );
    expect(tally.records).toBeGreaterThan(150);
    expect(tally.searched).toBeGreaterThan(1000);
    expect(tally.where).toEqual([]);
    expect(tally.leftInFreeText).toBe(0);
  });

  it('finds no structured identifier of a FHIR document or line in its de-identified output', () => {
    const tally = newTally();
    for (const file of [...listFiles('fhir'), ...listFiles('ndjson')]) {
      checkFhirFile(file, tally);
    }
    console.info(
      `FHIR leak check: ${tally.records} documents or lines, ${tally.searched} identifiers`,
    );
    expect(tally.records).toBeGreaterThan(100);
    expect(tally.searched).toBeGreaterThan(400);
    expect(tally.where).toEqual([]);
  });
});
