import { describe, expect, it } from 'vitest';

import { detectFormat, stripBom } from '../../transforms/detect-format.js';

const encoder = new TextEncoder();
const bytesOf = (text: string): Uint8Array => encoder.encode(text);
const withPrefix = (prefix: number[], text: string): Uint8Array =>
  new Uint8Array([...prefix, ...bytesOf(text)]);

const BOM = [0xef, 0xbb, 0xbf];
const MLLP_START = 0x0b;
const MLLP_END = [0x1c, 0x0d];

describe('detectFormat', () => {
  it('detects an HL7 v2 message by its MSH segment', () => {
    const message = 'MSH|^~\\&|APP|FAC|||20240101||ADT^A01|1|P|2.5.1\r';
    expect(detectFormat(bytesOf(message))).toBe('hl7v2');
  });

  it('detects HL7 v2 batch files opening with FHS or BHS', () => {
    expect(detectFormat(bytesOf('FHS|^~\\&|APP\rBHS|^~\\&|APP\rMSH|^~\\&|APP\r'))).toBe('hl7v2');
    expect(detectFormat(bytesOf('BHS|^~\\&|APP\rMSH|^~\\&|APP\r'))).toBe('hl7v2');
  });

  it('skips a byte order mark, white space and the MLLP start byte', () => {
    expect(detectFormat(withPrefix(BOM, 'MSH|^~\\&|APP\r'))).toBe('hl7v2');
    const framed = new Uint8Array([MLLP_START, ...bytesOf('MSH|^~\\&|APP\r'), ...MLLP_END]);
    expect(detectFormat(framed)).toBe('hl7v2');
    expect(detectFormat(bytesOf('\r\n  \tMSH#^~\\&|APP\r'))).toBe('hl7v2');
  });

  it('needs a non-alphanumeric field separator after the segment name', () => {
    expect(detectFormat(bytesOf('MSHH0\r'))).toBe('unknown');
    expect(detectFormat(bytesOf('MSH\r'))).toBe('unknown');
    expect(detectFormat(bytesOf('MSH'))).toBe('unknown');
    expect(detectFormat(bytesOf('PID|1||123\r'))).toBe('unknown');
  });

  it('treats pretty-printed JSON as a FHIR document', () => {
    const pretty = JSON.stringify({ resourceType: 'Patient', id: 'a' }, null, 2);
    expect(detectFormat(bytesOf(pretty))).toBe('fhir-json');
    expect(detectFormat(withPrefix(BOM, `\n${pretty}\n`))).toBe('fhir-json');
  });

  it('treats one line of JSON without a second line as a FHIR document', () => {
    expect(detectFormat(bytesOf('{"resourceType":"Patient","id":"a"}'))).toBe('fhir-json');
    expect(detectFormat(bytesOf('{"resourceType":"Patient","id":"a"}\n\n  \n'))).toBe('fhir-json');
  });

  it('detects NDJSON when a complete object is followed by another object line', () => {
    const ndjson = '{"resourceType":"Patient","id":"a"}\n{"resourceType":"Patient","id":"b"}\n';
    expect(detectFormat(bytesOf(ndjson))).toBe('ndjson');
    expect(detectFormat(withPrefix(BOM, ndjson.replaceAll('\n', '\r\n')))).toBe('ndjson');
    expect(detectFormat(bytesOf('{"a":1}\n\n{"b":2}'))).toBe('ndjson');
  });

  it('ignores braces inside strings when deciding whether the first line is complete', () => {
    expect(detectFormat(bytesOf('{"div":"}{ \\" }"}\n{"b":2}\n'))).toBe('ndjson');
    expect(detectFormat(bytesOf('{"div":"{"\n{"b":2}\n'))).toBe('fhir-json');
    expect(detectFormat(bytesOf('{"a":1} {"c":3}\n{"b":2}\n'))).toBe('fhir-json');
  });

  it('returns unknown for empty input, binary garbage and other text', () => {
    expect(detectFormat(new Uint8Array(0))).toBe('unknown');
    expect(detectFormat(withPrefix(BOM, '  \r\n'))).toBe('unknown');
    const nulBeforeMsh = new Uint8Array([0x00, 0x00, 0x02, 0x4d, 0x53, 0x48, 0x7c]);
    expect(detectFormat(nulBeforeMsh)).toBe('unknown');
    const pngHeader = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(detectFormat(pngHeader)).toBe('unknown');
    expect(detectFormat(new Uint8Array([0xff, 0xfe, 0x7b, 0x00]))).toBe('unknown');
    expect(detectFormat(bytesOf('[{"resourceType":"Patient"}]'))).toBe('unknown');
    expect(detectFormat(bytesOf('id,name\n1,x\n'))).toBe('unknown');
  });

  it('settles for a closing brace when the first line is longer than the scanned prefix', () => {
    const longLine = `{"resourceType":"Binary","data":"${'A'.repeat(70 * 1024)}"}`;
    expect(detectFormat(bytesOf(`${longLine}\n${longLine}\n`))).toBe('ndjson');
  });
});

describe('stripBom', () => {
  it('removes one leading byte order mark and nothing else', () => {
    expect(stripBom('\uFEFF{"a":1}')).toBe('{"a":1}');
    expect(stripBom('{"a":1}')).toBe('{"a":1}');
    expect(stripBom('')).toBe('');
    expect(stripBom('a\uFEFF')).toBe('a\uFEFF');
  });
});
