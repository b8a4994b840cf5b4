import { describe, expect, it } from 'vitest';

import { dateOffsetDays, shiftHl7Date } from '../../transforms/deid/date-shift.js';
import { collectHl7Identifiers, hl7BaselineText } from '../../transforms/deid/hl7-identifiers.js';
import { checkLeaks } from '../../transforms/deid/leak-check.js';
import { hashDeidRules, resolveDeidRules } from '../../transforms/deid/rules.js';
import type { DeidPreset, DeidRulesFile } from '../../transforms/deid/rules.js';
import { deidentifyHl7ToJson, parseHl7 } from '../../transforms/hl7/index.js';
import type { Hl7JsonRecord, Hl7Message } from '../../transforms/hl7/index.js';
import { pseudonymize } from '../../transforms/pseudonym.js';
import { recordText } from '../helpers/hl7-record.js';

// Synthetic values only: none of these belong to a person.
const KEY = new Uint8Array(32).map((_, index) => index * 5);
const MRN = 'MRN7001';
const OFFSET_DAYS = dateOffsetDays(KEY, pseudonymize(KEY, 'patient-id', MRN), 365);

function contextFor(preset: DeidPreset = 'safe-harbor', file: DeidRulesFile = {}) {
  const rules = resolveDeidRules(preset, file);
  return { pseudonymKey: KEY, rules, rulesHash: hashDeidRules(rules), referenceYear: 2026 };
}

function parse(text: string): Hl7Message {
  const parsed = parseHl7(text, 0);
  if (!parsed.ok) {
    throw new Error(`Expected the test message to parse, got ${parsed.code}`);
  }
  return parsed.message;
}

/** The de-identified record of one message, read by ER7 paths (`GT1-24`, `QPD-3.1`). */
function deidentified(
  text: string,
  ctx = contextFor(),
): { get(path: string): string | null; record: Hl7JsonRecord } {
  const record = deidentifyHl7ToJson(parse(text), ctx);
  return { get: (path) => recordText(record, path), record };
}

/** A segment with the given fields at their positions, the others empty. */
function segment(name: string, fields: Record<number, string>): string {
  const last = Math.max(...Object.keys(fields).map(Number));
  const values = Array.from({ length: last }, (_, index) => fields[index + 1] ?? '');
  return [name, ...values].join('|');
}

const MSH = 'MSH|^~\\&|APP|FAC|DEST|DEST|20240301080000||ADT^A01|C1|P|2.5.1';
const PID = `PID|1||${MRN}^^^HOSP^MR||Testperson^Fake||19700101|F`;

// The guarantor is the patient (GT1-11 SEL); every field the trial saw pass is filled.
const GUARANTOR = segment('GT1', {
  1: '1',
  3: 'Testperson^Fake',
  9: 'F',
  11: 'SEL',
  24: '20240215083000',
  25: 'Y',
  31: '20091010',
  32: '20101010',
  36: 'eng',
  42: 'Testmaiden',
  43: 'US^United States^ISO3166_1',
  45: 'Testkin^Fakecontact',
  46: '(555)555-0142^PRN^PH~^NET^Internet^kin@example.invalid',
  57: 'N',
});

const ADMISSION = [MSH, PID, GUARANTOR].join('\r');

describe('GT1 under safe-harbor', () => {
  it("keeps only the year of the guarantor's death, which is the patient's when GT1-11 is SEL", () => {
    const message = deidentified(ADMISSION);
    expect(message.get('GT1-24')).toBe('2024');
    expect(message.get('GT1-25')).toBe('Y');
  });

  it("shifts the hire and employment stop dates by the patient's offset", () => {
    const message = deidentified(ADMISSION);
    expect(OFFSET_DAYS).not.toBe(0);
    expect(message.get('GT1-31')).toBe(shiftHl7Date('20091010', OFFSET_DAYS));
    expect(message.get('GT1-32')).toBe(shiftHl7Date('20101010', OFFSET_DAYS));
    expect(message.get('GT1-31')).not.toBe('20091010');
  });

  it("removes the mother's maiden name and the contact person's name and phone", () => {
    const message = deidentified(ADMISSION);
    expect(message.get('GT1-42')).toBe('');
    expect(message.get('GT1-45')).toBe('');
    expect(message.get('GT1-46')).toBe('');
    expect(JSON.stringify(message.record)).not.toMatch(/Testmaiden|Fakecontact|0142|kin@/);
  });

  it('keeps the codes and flags it names: sex, relationship, language, nationality, VIP', () => {
    const message = deidentified(ADMISSION);
    expect(message.get('GT1-1')).toBe('1');
    expect(message.get('GT1-9')).toBe('F');
    expect(message.get('GT1-11')).toBe('SEL');
    expect(message.get('GT1-36')).toBe('eng');
    expect(message.get('GT1-43')).toBe('US^United States^ISO3166_1');
    expect(message.get('GT1-57')).toBe('N');
  });

  it("scrubs the guarantor's contact person and phone from the message's free text", () => {
    const note = 'NTE|1||Spoke with Fakecontact Testkin (mother Testmaiden) on 555-555-0142';
    const message = deidentified([ADMISSION, note].join('\r'));
    expect(message.get('NTE-3')).toBe('Spoke with [NAME] [NAME] (mother [NAME]) on [PHONE]');
  });
});

describe('segments about people are allow-lists', () => {
  const LATER_FIELDS = [
    MSH,
    segment('PID', { 1: '1', 3: `${MRN}^^^HOSP^MR`, 8: 'F', 37: 'Fakestrain', 41: 'NEW41' }),
    segment('GT1', { 1: '1', 11: 'SEL', 60: 'NEW60' }),
    segment('IN3', {
      1: '1',
      2: 'CERT0001',
      15: 'Fakecontact Testkin',
      16: '(555)555-0199',
      21: 'Testmanager Fake',
      26: 'NEW26',
    }),
    segment('NK1', { 1: '1', 3: 'MTH^Mother', 44: 'NEW44' }),
  ].join('\r');

  it('removes fields no rule names, including those past the last one HL7 v2.8 defines', () => {
    const message = deidentified(LATER_FIELDS);
    for (const path of ['PID-37', 'PID-41', 'GT1-60', 'IN3-15', 'IN3-16', 'IN3-21', 'IN3-26']) {
      expect(message.get(path), path).toBe('');
    }
    expect(message.get('NK1-44')).toBe('');
    expect(JSON.stringify(message.record)).not.toMatch(/NEW\d\d|Fake|Test|0199/);
  });

  it('keeps what it names as sent and pseudonymises the certification number', () => {
    const message = deidentified(LATER_FIELDS);
    expect(message.get('PID-8')).toBe('F');
    expect(message.get('NK1-3')).toBe('MTH^Mother');
    expect(message.get('IN3-1')).toBe('1');
    expect(message.get('IN3-2')).toBe(pseudonymize(KEY, 'other', 'CERT0001'));
  });

  it("removes an emergency contact's name and phone and generalises their address", () => {
    const contact =
      'CTD|C^Emergency Contact^HL70131|Testkin^Fakecontact|1 Fake Lane^^Testville^MI^48109^USA|' +
      '|^WPN^PH^^^555^5550142|PH';
    const delivery = segment('RXE', { 2: 'RX1^Testdrug^L', 43: '2 Fake Road^^Testville^MI^48109' });
    const message = deidentified([MSH, PID, contact, delivery].join('\r'));
    expect(message.get('CTD-1')).toBe('C^Emergency Contact^HL70131');
    expect(message.get('CTD-2')).toBe('');
    expect(message.get('CTD-3')).toBe('^^^MI^481^USA');
    expect(message.get('CTD-5')).toBe('');
    expect(message.get('CTD-6')).toBe('PH');
    expect(message.get('RXE-43')).toBe('^^^MI^481');
    expect(JSON.stringify(message.record)).not.toMatch(/Fake|Testville|0142/);
  });

  it("lets a feed's own rule keep a field the allow-list would remove", () => {
    const ctx = contextFor('safe-harbor', { hl7: [{ path: 'PID-37', method: 'keep' }] });
    const message = deidentified(LATER_FIELDS, ctx);
    expect(message.get('PID-37')).toBe('Fakestrain');
    expect(message.get('PID-41')).toBe('');
  });

  it('gives prior ids the namespaces of PID and PV1: MRG-3 is the account, MRG-4 a patient id', () => {
    const merge = 'MRG|OLDMRN1^^^HOSP^MR||OLDACCT1|OLDMRN2|OLDVISIT1||Testperson^Fake';
    const message = deidentified([MSH, PID, merge].join('\r'));
    expect(message.get('MRG-1.1')).toBe(pseudonymize(KEY, 'patient-id', 'OLDMRN1'));
    expect(message.get('MRG-3')).toBe(pseudonymize(KEY, 'account', 'OLDACCT1'));
    expect(message.get('MRG-4')).toBe(pseudonymize(KEY, 'patient-id', 'OLDMRN2'));
    expect(message.get('MRG-5')).toBe(pseudonymize(KEY, 'visit', 'OLDVISIT1'));
    expect(message.get('MRG-7')).toBe('');
  });
});

describe('query segments', () => {
  const EVENT_REPLAY = [
    'MSH|^~\\&|APP|FAC|DEST|DEST|20240301080000||ERP^Z99^ERP_R09|C2|T|2.3.1',
    'QAK|TAG0001|OK',
    `ERQ|TAG0001|R09|@PID.3.1^${MRN}~@PID.7^19700101~@PID.8^F`,
  ].join('\r');

  it('pseudonymises the query tag of ERQ and QAK alike, keeps the event, removes the parameters', () => {
    const message = deidentified(EVENT_REPLAY);
    const tag = pseudonymize(KEY, 'message', 'TAG0001');
    expect(message.get('ERQ-1')).toBe(tag);
    expect(message.get('ERQ-2')).toBe('R09');
    expect(message.get('ERQ-3')).toBe('');
    expect(message.get('QAK-1')).toBe(tag);
    expect(JSON.stringify(message.record)).not.toMatch(/MRN7001|19700101/);
  });

  it('keeps the query name of QPD, pseudonymises its tag and removes every parameter', () => {
    const query = [
      'MSH|^~\\&|APP|FAC|DEST|DEST|20240301080000||QBP^Q22^QBP_Q21|C3|P|2.5.1',
      `QPD|Q22^Find Candidates^HL7nnnn|TAG0002|@PID.3.1^${MRN}|Testperson^Fake|19700101`,
      'RCP|I|10^RD',
    ].join('\r');
    const message = deidentified(query);
    expect(message.get('QPD-1')).toBe('Q22^Find Candidates^HL7nnnn');
    expect(message.get('QPD-2')).toBe(pseudonymize(KEY, 'message', 'TAG0002'));
    for (const path of ['QPD-3', 'QPD-4', 'QPD-5']) {
      expect(message.get(path), path).toBe('');
    }
    expect(message.get('RCP-2')).toBe('10^RD');
  });

  it('removes the who and other-subject filters of QRD and QRF and shifts their dates', () => {
    const query = [
      'MSH|^~\\&|APP|FAC|DEST|DEST|20240301080000||QRY^A19|C4|P|2.3',
      `QRD|20240301080000|R|I|QID0003|||10^RD|${MRN}^Testperson^Fake|DEM|ALL`,
      `QRF|MIE|20240101|20240301||${MRN}|ANY`,
    ].join('\r');
    const message = deidentified(query);
    expect(message.get('QRD-4')).toBe(pseudonymize(KEY, 'message', 'QID0003'));
    expect(message.get('QRD-8')).toBe('');
    expect(message.get('QRD-9')).toBe('DEM');
    expect(message.get('QRF-1')).toBe('MIE');
    expect(message.get('QRF-5')).toBe('');
    expect(message.get('QRF-6')).toBe('ANY');
    expect(message.get('QRD-1')).not.toBe('20240301080000');
    expect(message.get('QRF-2')).toMatch(/^\d{8}$/);
    expect(message.get('QRF-2')).not.toBe('20240101');
  });
});

describe('limited data set', () => {
  it('keeps the dates and still removes names, contacts and query parameters', () => {
    const ctx = contextFor('limited-data-set');
    const message = deidentified([ADMISSION, 'ERQ|TAG0001|R09|@PID.3.1^MRN7001'].join('\r'), ctx);
    expect(message.get('GT1-24')).toBe('20240215083000');
    expect(message.get('GT1-31')).toBe('20091010');
    expect(message.get('GT1-42')).toBe('');
    expect(message.get('GT1-45')).toBe('');
    expect(message.get('GT1-46')).toBe('');
    expect(message.get('ERQ-3')).toBe('');
    expect(message.get('GT1-11')).toBe('SEL');
  });
});

describe('leak check over query parameters', () => {
  const text = [MSH, PID, `ERQ|TAG0001|R09|@PID.3.1^${MRN}`].join('\r');

  it('does not count a query parameter as kept by design', () => {
    expect(hl7BaselineText(parse(text))).not.toContain(MRN);
    expect(hl7BaselineText(parse(text))).toContain('TAG0001');
  });

  it("reports the patient's MRN when a feed keeps the parameters", () => {
    const message = parse(text);
    const known = collectHl7Identifiers(message);
    const keeping = contextFor('safe-harbor', { hl7: [{ path: 'ERQ-3', method: 'keep' }] });
    const kept = JSON.stringify(deidentifyHl7ToJson(message, keeping));
    expect(checkLeaks(known, kept, hl7BaselineText(message)).leaks).toEqual(['id']);
    const removed = JSON.stringify(deidentifyHl7ToJson(message, contextFor()));
    expect(checkLeaks(known, removed, hl7BaselineText(message)).leaks).toEqual([]);
  });

  it('scrubs acknowledgement and error texts and pseudonymises the acknowledged control id', () => {
    const text = [
      'MSH|^~\\&|APP|FAC|DEST|DEST|20240301080000||ACK^A01|C9|P|2.5.1',
      `MSA|AE|C1|Patient Testperson ${MRN} not found`,
      `ERR||PID^1^3|204^Unknown key|E||||No match for ${MRN} Testperson|Call 555-201-0100`,
      PID,
    ].join('\r');

    const out = deidentified(text);

    for (const path of ['MSA-3', 'ERR-7', 'ERR-8']) {
      const value = out.get(path) ?? '';
      expect(value, path).not.toContain('Testperson');
      expect(value, path).not.toContain(MRN);
      expect(value, path).not.toContain('555-201-0100');
    }
    expect(out.get('MSA-1')).toBe('AE');
    // The acknowledged control id is pseudonymised as MSH-10 is, so it still matches.
    expect(out.get('MSA-2')).toBe(pseudonymize(KEY, 'message', 'C1'));
    expect(out.get('ERR-3.1')).toBe('204');
  });

  it('pseudonymises OBX-18, the equipment instance identifier (a device serial or UDI)', () => {
    const text = [
      'MSH|^~\\&|APP|FAC|DEST|DEST|20240301080000||ORU^R01|C8|P|2.5.1',
      PID,
      'OBX|1|NM|8867-4^Heart rate^LN||72|/min|||||F|||||||SN-DEVICE-998877^^UDI~UDI-0001',
    ].join('\r');

    const out = deidentified(text);

    const serial = out.get('OBX-18') ?? '';
    expect(serial).not.toContain('SN-DEVICE-998877');
    expect(serial).not.toContain('UDI-0001');
    expect(out.get('OBX-18.1')).toBe(pseudonymize(KEY, 'other', 'SN-DEVICE-998877'));
  });
});
