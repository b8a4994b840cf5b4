import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  STANDARD_HL7_DELIMITERS,
  STANDARD_REQUIRED_MSH_FIELDS,
  decodeHl7Bytes,
  deidentifyHl7ToJson,
  parseHl7,
  serializeHl7,
  splitHl7File,
  unescapeHl7,
} from '../../transforms/hl7/index.js';
import { parseHl7Selector, selectsSegment } from '../../transforms/deid/hl7-selector.js';
import { hl7PresetRules } from '../../transforms/deid/presets.js';
import type { Hl7Message, ParseHl7Options } from '../../transforms/hl7/index.js';

// The developer corpus lives beside the project (/work/shared/corpus); CI may not have it.
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpusDir = path.resolve(projectRoot, '..', 'shared', 'corpus');
const hl7Dir = path.join(corpusDir, 'hl7v2');
const hasCorpus = existsSync(hl7Dir);

if (!hasCorpus) {
  console.info(`HL7 corpus tests skipped: no corpus at ${corpusDir}`);
}

// Malformed inputs that parse anyway, and why: no rule we apply is broken.
const MALFORMED_THAT_PASS = new Map([
  // MSH-6 is optional in the standard and empty in many valid corpus messages.
  ['cdcti__Message-msh_present_but_missing_msh-6.hl7', 'MSH-6 not required'],
  // A whole address in XAD.1 is well-formed text; only NM and date types are checked.
  ['cdcti__Orders-012_AL_ORM_O01_malformed_XAD_datatype_0_initial_message.hl7', 'XAD unchecked'],
]);

// What each malformed file gives: the split's code for whole-file problems, else the first
// message's. nHapi's fuzzed files mostly break MSH-2 (a control character, a letter or a
// missing encoding character); one keeps MSH and breaks the next segment's id.
const MALFORMED_CODES: ReadonlyMap<string, string> = new Map([
  ['cdcti__Message-empty.hl7', 'FILE_EMPTY'],
  ['cdcti__Message-msh_present_but_missing_all_fields.hl7', 'HL7_BAD_DELIMITERS'],
  ['cdcti__Message-msh_present_but_missing_msh-10.hl7', 'HL7_MISSING_FIELD'],
  ['cdcti__Message-msh_present_but_missing_msh-6.hl7', 'ok'],
  ['cdcti__Message-orm_obx-5_is_not_a_numeric_value.hl7', 'HL7_BAD_DATATYPE'],
  ['cdcti__Orders-012_AL_ORM_O01_malformed_XAD_datatype_0_initial_message.hl7', 'ok'],
  [
    'nhapi__EncodingNotSupportedException-id_000014,sig_02,src_000480+000349,op_splice,rep_32.hl7',
    'HL7_MISSING_MSH',
  ],
  [
    'nhapi__EncodingNotSupportedException-id_000213,sig_02,src_001353+000130,op_splice,rep_8.hl7',
    'HL7_MISSING_MSH',
  ],
  ['nhapi__EncodingNotSupportedException-nullref1.hl7', 'HL7_MISSING_MSH'],
  [
    'nhapi__HL7Exception-id_000029,sig_02,src_000167+001027,op_splice,rep_8.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  [
    'nhapi__HL7Exception-id_000042,sig_02,src_000334+000148,op_splice,rep_4.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  [
    'nhapi__HL7Exception-id_000064,sig_02,src_000051+000380,op_splice,rep_16.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  [
    'nhapi__HL7Exception-id_000087,sig_02,src_000967+001832,op_splice,rep_2.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  [
    'nhapi__HL7Exception-id_000099,sig_02,src_004226+004602,op_splice,rep_4.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  [
    'nhapi__HL7Exception-id_000118,sig_02,src_001039+002153,op_splice,rep_16.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  [
    'nhapi__HL7Exception-id_000123,sig_02,src_000372+002313,op_splice,rep_8.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  [
    'nhapi__HL7Exception-id_000125,sig_02,src_004230+004691,op_splice,rep_16.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  ['nhapi__HL7Exception-id_000151,sig_02,src_001351,op_havoc,rep_2.hl7', 'HL7_BAD_DELIMITERS'],
  [
    'nhapi__HL7Exception-id_000160,sig_02,src_004804+004815,op_splice,rep_8.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  [
    'nhapi__HL7Exception-id_000176,sig_02,src_002656+002699,op_splice,rep_32.hl7',
    'HL7_BAD_DELIMITERS',
  ],
  ['nhapi__HL7Exception-id_000205,sig_02,src_001449,op_havoc,rep_2.hl7', 'HL7_BAD_DELIMITERS'],
  ['nhapi__HL7Exception-ioor1.hl7', 'HL7_BAD_DELIMITERS'],
  ['nhapi__HL7Exception-so2.hl7', 'HL7_BAD_DELIMITERS'],
  ['nhapi__HL7Exception-so3.hl7', 'HL7_BAD_DELIMITERS'],
  ['nhapi__HL7Exception-so5.hl7', 'HL7_BAD_DELIMITERS'],
  ['nhapi__HL7Exception-stackoverflow1.hl7', 'HL7_BAD_DELIMITERS'],
  ['nhapi__HL7Exception-sys1.hl7', 'HL7_BAD_DELIMITERS'],
  ['nhapi__HL7Exception-sys2.hl7', 'HL7_BAD_DELIMITERS'],
  ['nhapi__NoException-id_000109,sig_02,src_001098+002192,op_splice,rep_4.hl7', 'HL7_BAD_SEGMENT'],
  [
    'nhapi__NoException-id_000168,sig_02,src_002426+002144,op_splice,rep_8.hl7',
    'HL7_BAD_DELIMITERS',
  ],
]);

// Messages in valid files that break a default rule, by message index: two nHapi OML^O21
// fixtures carry no MSH-10 (message control id), which every HL7 v2 version marks required.
const VALID_FILE_REJECTS: ReadonlyMap<string, Record<number, string>> = new Map([
  ['nhapi__Parser-OML_O21_messages.hl7', { 4: 'HL7_MISSING_FIELD', 6: 'HL7_MISSING_FIELD' }],
]);

interface Outcome {
  splitCode?: string;
  messages: Array<{ text?: string; message?: Hl7Message; code?: string }>;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.(hl7|mllp)$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

function runFile(file: string, options?: ParseHl7Options): Outcome {
  const bytes = new Uint8Array(readFileSync(file));
  const split = splitHl7File(bytes);
  if (!split.ok) {
    return { splitCode: split.code, messages: [] };
  }
  const messages = split.messages.map((range, messageIndex) => {
    const decoded = decodeHl7Bytes(bytes.subarray(range.start, range.end), messageIndex);
    if (!decoded.ok) {
      return { code: decoded.code };
    }
    const parsed = parseHl7(decoded.text, messageIndex, options);
    return parsed.ok
      ? { text: decoded.text, message: parsed.message }
      : { text: decoded.text, code: parsed.code };
  });
  return { messages };
}

/** Counts segments that start with MSH and a delimiter, without the code under test. */
function countMshSegments(file: string): number {
  const text = readFileSync(file, 'latin1');
  return text.match(/(?:^|[\r\n\x0b])(?:\xef\xbb\xbf)?MSH[!-/:-@[-`{-~]/g)?.length ?? 0;
}

function occurrences(text: string, word: string): number {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'gu');
  return text.match(pattern)?.length ?? 0;
}

describe.skipIf(!hasCorpus)('HL7 v2 corpus', () => {
  const validFiles = hasCorpus ? listFiles(hl7Dir) : [];
  const malformedFiles = hasCorpus ? listFiles(path.join(hl7Dir, 'malformed')) : [];

  it('splits, decodes and parses every file without throwing', () => {
    for (const file of [...validFiles, ...malformedFiles]) {
      const outcome = runFile(file);
      const codes = [outcome.splitCode, ...outcome.messages.map((m) => m.code)];
      for (const code of codes.filter((c) => c !== undefined)) {
        expect(code, file).toMatch(/^(HL7_[A-Z_]+|FILE_EMPTY)$/);
      }
    }
  });

  it('finds as many messages as an independent count of MSH segments', () => {
    for (const file of [...validFiles, ...malformedFiles]) {
      const outcome = runFile(file);
      if (outcome.splitCode === undefined) {
        expect(outcome.messages.length, file).toBe(countMshSegments(file));
      }
    }
  });

  it('parses every message of every valid file', () => {
    expect(validFiles.length).toBeGreaterThan(100);
    for (const file of validFiles) {
      const outcome = runFile(file);
      expect(outcome.splitCode, file).toBeUndefined();
      const known = VALID_FILE_REJECTS.get(path.basename(file)) ?? {};
      expect(
        outcome.messages.map((m) => m.code ?? 'ok'),
        file,
      ).toEqual(outcome.messages.map((_, index) => known[index] ?? 'ok'));
    }
  });

  it('serialises every unmodified valid message back byte for byte', () => {
    for (const file of validFiles) {
      // Round trip is about fidelity, not required fields: none are required here.
      for (const { text, message } of runFile(file, { requiredMshFields: [] }).messages) {
        expect(message && serializeHl7(message) === text, file).toBe(true);
      }
    }
  });

  it('rejects every malformed file but the documented few', () => {
    for (const file of malformedFiles) {
      const outcome = runFile(file);
      const rejected = outcome.splitCode !== undefined || outcome.messages.some((m) => m.code);
      expect(rejected, file).toBe(!MALFORMED_THAT_PASS.has(path.basename(file)));
    }
    const codes = new Map(
      malformedFiles.map((file) => {
        const outcome = runFile(file);
        return [path.basename(file), outcome.splitCode ?? outcome.messages[0]?.code ?? 'ok'];
      }),
    );
    expect(codes).toEqual(MALFORMED_CODES);
    const strict = runFile(
      path.join(hl7Dir, 'malformed', 'cdcti__Message-msh_present_but_missing_msh-10.hl7'),
      { requiredMshFields: STANDARD_REQUIRED_MSH_FIELDS },
    );
    expect(strict.messages[0].code).toBe('HL7_MISSING_FIELD');
  });

  it('unescapes the nHapi uuencoded fixture to its expected text', () => {
    const fragments = path.join(hl7Dir, 'fragments');
    const read = (name: string): string => readFileSync(path.join(fragments, name), 'utf8');
    const escaped = read('nhapi__Parser-uuencoded_escaped.hl7');
    const expected = read('nhapi__Parser-uuencoded_unescaped.hl7');
    // The fixture is one OBX-5 value under the standard delimiters. nHapi checks its fixtures
    // out with CRLF line ends (eol=crlf, see corpus SOURCES.md); the stored blob has LF, which
    // is what \X0D\\X0A\ decodes to after that checkout.
    expect(unescapeHl7(escaped, STANDARD_HL7_DELIMITERS)).toBe(expected.replaceAll('\n', '\r\n'));
  });

  it('removes PID-5 family names from every field the de-identification rules cover', () => {
    const ctx = { pseudonymKey: new Uint8Array(32).fill(1) };
    // A field is covered when the first rule that selects it changes it: a `keep` in an
    // allow-list is not, its segment's `SEG-*` is. Conditional rules (OBX-5) are left out.
    const rules = hl7PresetRules('safe-harbor')
      .map((rule) => ({ selector: parseHl7Selector(rule.path), method: rule.method }))
      .filter((rule) => rule.selector.where === undefined);
    const isCovered = (segmentName: string, field: number): boolean => {
      const rule = rules.find(
        ({ selector }) =>
          selectsSegment(selector, segmentName) &&
          (selector.field === '*' || selector.field === field),
      );
      return rule !== undefined && rule.method !== 'keep';
    };
    let namesChecked = 0;

    for (const file of validFiles) {
      for (const { message } of runFile(file).messages) {
        if (!message) {
          continue;
        }
        const familyNames = new Set<string>();
        for (const pid of message.segmentsNamed('PID')) {
          for (let repetition = 1; repetition <= pid.repetitionCount(5); repetition++) {
            const family = pid.getValue(5, repetition, 1, 1)?.trim() ?? '';
            if (family.length > 1) {
              familyNames.add(family);
            }
          }
        }
        // Occurrences outside covered fields (a provider or application with the same name,
        // the word TEST in a result) are not the patient's name and may stay.
        const uncovered = message.segments
          .flatMap((segment) =>
            Array.from({ length: segment.fieldCount }, (_, i) => i + 1)
              .filter((field) => !isCovered(segment.name, field))
              .map((field) => segment.getFieldText(field)),
          )
          .join('|');

        const jsonText = JSON.stringify(deidentifyHl7ToJson(message, ctx));
        for (const name of familyNames) {
          const allowed = occurrences(uncovered, name);
          expect(occurrences(jsonText, name), `${file}: ${name}`).toBeLessThanOrEqual(allowed);
          namesChecked++;
        }
      }
    }
    expect(namesChecked).toBeGreaterThan(100);
  });
});
