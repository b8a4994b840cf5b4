import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { createTextScrubber, emptyKnownIdentifiers } from '../../transforms/deid/free-text.js';
import type { KnownIdentifiers } from '../../transforms/deid/free-text.js';
import { collectHl7Identifiers } from '../../transforms/deid/hl7-identifiers.js';
import { decodeHl7Bytes, parseHl7, splitHl7File } from '../../transforms/hl7/index.js';
import type { Hl7Message } from '../../transforms/hl7/index.js';
import { generateHl7Corpus } from '../../samples/index.js';
import { corpusAvailable, corpusPath } from '../helpers/corpus.js';

function parse(text: string): Hl7Message {
  const parsed = parseHl7(text, 0);
  if (!parsed.ok) {
    throw new Error(`test message did not parse: ${parsed.code}`);
  }
  return parsed.message;
}

function messagesOf(bytes: Uint8Array): Hl7Message[] {
  const split = splitHl7File(bytes, { acceptCountMismatch: true });
  if (!split.ok) {
    return [];
  }
  const messages: Hl7Message[] = [];
  split.messages.forEach((range, index) => {
    const decoded = decodeHl7Bytes(bytes.subarray(range.start, range.end));
    const parsed = decoded.ok ? parseHl7(decoded.text, index) : undefined;
    if (parsed?.ok) {
      messages.push(parsed.message);
    }
  });
  return messages;
}

function hl7Files(folder: string): string[] {
  return readdirSync(corpusPath(folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function listsOf(known: KnownIdentifiers): KnownIdentifiers {
  return {
    names: known.names,
    ids: known.ids,
    phones: known.phones,
    addresses: known.addresses,
    zips: known.zips,
    dates: known.dates,
    emails: known.emails,
  };
}

// Texts that hold the message's own identifiers, so the scrubber has something to find: as read,
// upper-cased, lower-cased and glued to letters (which must not be found).
function textsHolding(known: KnownIdentifiers): string[] {
  const all = [
    ...known.names,
    ...known.ids,
    ...known.phones,
    ...known.addresses,
    ...known.zips,
    ...known.emails,
  ];
  return [
    all.join(' '),
    all.join(', ').toUpperCase(),
    all.join('\n').toLowerCase(),
    all.map((value) => `x${value}y`).join(' '),
  ];
}

// The scrubber is built straight from the message's fields; the leak checker reads the lists.
// Both must agree, find for find.
function compareScrubbers(messages: Hl7Message[]): { messages: number; spans: number } {
  let spans = 0;
  for (const message of messages) {
    for (const dates of [true, false]) {
      const known = collectHl7Identifiers(message);
      const direct = createTextScrubber(known, { dates });
      const fromLists = createTextScrubber(listsOf(known), { dates });
      for (const text of textsHolding(known)) {
        const found = direct.find(text);
        expect(found).toEqual(fromLists.find(text));
        spans += found.length;
      }
    }
  }
  return { messages: messages.length, spans };
}

const MESSAGE = [
  'MSH|^~\\&|APP|FAC|DEST|DFAC|20240301080000||ADT^A01|MSG1|P|2.5.1',
  'PID|1||MRN123456^^^HOSP^MR~ACCT998877^^^HOSP^AN||Fakename^Romeo^J||19690325|M|||' +
    '487 Fake Street&Fake Street&487^^Testville^TS^12345-6789^USA||(210)555-0125^PRN^PH^' +
    'romeo@example.invalid^^210^5550199',
  'NK1|1|Testpatient^Tango|SPO|487 Fake Street^^Testville^TS^12345|(210)555-0126',
  'OBX|1|TX|11329-0^History^LN||Note||||||F',
].join('\r');

describe('HL7 v2 identifiers for the free-text scrubber', () => {
  it('reads the lists on first use, as they were collected before', () => {
    const known = collectHl7Identifiers(parse(MESSAGE));
    expect(listsOf(known)).toEqual({
      names: ['Fakename', 'Romeo', 'J', 'Testpatient', 'Tango'],
      ids: ['MRN123456', 'ACCT998877'],
      phones: ['(210)555-0125', '2105550199', '(210)555-0126'],
      addresses: ['487 Fake Street', 'Testville', '487 Fake Street', 'Testville'],
      zips: ['12345-6789', '12345'],
      dates: ['1969-03-25'],
      emails: ['romeo@example.invalid'],
    });
  });

  it('serialises as its lists, not as an empty object', () => {
    const known = collectHl7Identifiers(parse(MESSAGE));
    const copy = JSON.parse(JSON.stringify(known)) as Record<string, string[]>;

    expect(copy.names).toEqual(['Fakename', 'Romeo', 'J', 'Testpatient', 'Tango']);
    expect(copy.ids).toEqual(['MRN123456', 'ACCT998877']);
  });

  it("scrubs the message's own identifiers from its free text", () => {
    const scrubber = createTextScrubber(collectHl7Identifiers(parse(MESSAGE)), { dates: true });
    expect(
      scrubber.scrub(
        'ROMEO fakename (acct998877) of 487 Fake Street, Testville 12345; wife Tango on ' +
          '(210) 555-0199 or 555 0126, romeo@example.invalid. J stays; Romeos stays.',
      ),
    ).toBe(
      '[NAME] [NAME] ([ID]) of [ADDRESS], [ADDRESS] [ZIP]; wife [NAME] on [PHONE] or [PHONE], ' +
        '[EMAIL]. J stays; Romeos stays.',
    );
  });

  it('finds a value two kinds share once, as the kind listed first', () => {
    const known = { ...emptyKnownIdentifiers(), names: ['Testville'], addresses: ['Testville'] };
    expect(createTextScrubber(known, { dates: true }).find('Moved to testville.')).toEqual([
      { start: 9, end: 18, kind: 'name' },
    ]);
  });

  it('skips patterns only on texts that cannot match them', () => {
    const scrubber = createTextScrubber(emptyKnownIdentifiers(), { dates: false });
    expect(scrubber.scrub('Seen. Host 192.0.2.7, then fe80:0:0:0:1:2:3:4 at 10:30.')).toBe(
      'Seen. Host [IP], then [IP] at 10:30.',
    );
    expect(scrubber.scrub('See WWW.Example.test; ssn 123456789; Zip: 12345.')).toBe(
      'See [URL]; ssn [SSN]; Zip: [ZIP].',
    );
  });

  it('builds the same scrubber from a message as from its lists (generated corpus)', () => {
    const corpus = generateHl7Corpus({ seed: 20261203, approxBytes: 300_000 });
    const result = compareScrubbers(messagesOf(corpus.bytes));
    expect(result.messages).toBe(corpus.recordCount);
    expect(result.spans).toBeGreaterThan(result.messages * 10);
  });

  describe.skipIf(!corpusAvailable)('on the shared corpus', () => {
    it('builds the same scrubber from a message as from its lists', () => {
      let messages = 0;
      let spans = 0;
      for (const file of hl7Files('hl7v2')) {
        const result = compareScrubbers(messagesOf(readFileSync(file)));
        messages += result.messages;
        spans += result.spans;
      }
      expect(messages).toBeGreaterThan(100);
      expect(spans).toBeGreaterThan(messages);
    });
  });
});
