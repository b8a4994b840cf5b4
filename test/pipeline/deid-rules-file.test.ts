import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { loadFeedDeidRules } from '../../pipeline/deid-rules-file.js';
import { PipelineError } from '../../pipeline/errors.js';
import { hashDeidRules, resolveDeidRules } from '../../transforms/deid/rules.js';

const folder = mkdtempSync(join(tmpdir(), 'phi-ingest-rules-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function errorOf(work: () => unknown): PipelineError {
  try {
    work();
  } catch (error) {
    if (error instanceof PipelineError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a PipelineError');
}

describe('loadFeedDeidRules', () => {
  it('names the file and the reason when the rules file cannot be read', () => {
    const missing = join(folder, 'missing.yaml');
    const error = errorOf(() => loadFeedDeidRules('safe-harbor', missing, 'adt'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(`Rules file of feed adt cannot be read (ENOENT): ${missing}`);
  });

  it('reports every problem of the file at once, FHIRPath ones included', () => {
    const file = join(folder, 'bad.yaml');
    writeFileSync(
      file,
      [
        'hl7:',
        '  - { path: PID-5, method: shuffle }',
        'fhir:',
        '  - { path: "Patient.name.where(", method: redact }',
      ].join('\n'),
    );
    const error = errorOf(() => loadFeedDeidRules('safe-harbor', file, 'adt'));
    expect(error.message).toBe(
      'Rules file of feed adt is invalid: hl7.0.method: unknown method or parameters; ' +
        'fhir.0.path: not a valid FHIRPath expression',
    );
  });

  it('rejects a misspelt parameter of a rule instead of dropping it, with the other problems', () => {
    const file = join(folder, 'misspelt.json');
    writeFileSync(
      file,
      JSON.stringify({
        hl7: [
          { path: 'PV1-3', method: 'keep' },
          { path: 'PID-3', method: 'cryptoHash', namespce: 'patient-id' },
          { path: 'PID-5', method: 'shuffle' },
        ],
        fhir: [{ path: 'Patient.identifier', method: 'cryptoHash', prat: 'id' }],
      }),
    );
    const error = errorOf(() => loadFeedDeidRules('safe-harbor', file, 'adt'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      'Rules file of feed adt is invalid: hl7.1.namespce: unknown key; ' +
        'hl7.2.method: unknown method or parameters; fhir.0.prat: unknown key',
    );
  });

  it('names the limit a number or text broke and the values a choice allows', () => {
    const file = join(folder, 'limits.json');
    writeFileSync(
      file,
      JSON.stringify({
        dateShift: { rangeDays: 5000 },
        embeddedDocuments: 'keep',
        hl7: [
          { method: 'keep' },
          { path: 'PID-5', method: 'substitute', value: 'Zed Testperson '.repeat(20) },
          { path: 'OBX-5', method: 'perturb', span: 0 },
        ],
      }),
    );
    const error = errorOf(() => loadFeedDeidRules('safe-harbor', file, 'adt'));
    expect(error.message).toBe(
      'Rules file of feed adt is invalid: dateShift.rangeDays: must be at most 3650; ' +
        'embeddedDocuments: expected one of drop, encrypt; hl7.0.path: required; ' +
        'hl7.1.value: must be at most 256 characters long; hl7.2.span: must be greater than 0',
    );
  });

  it('reads a JSON rules file saved with a byte order mark', () => {
    const file = join(folder, 'bom.json');
    writeFileSync(file, `\uFEFF${JSON.stringify({ hl7: [{ path: 'PV1-3', method: 'keep' }] })}`);
    expect(loadFeedDeidRules('safe-harbor', file, 'adt').rules.hl7).toEqual([
      { path: 'PV1-3', method: 'keep' },
    ]);
  });

  it('reads a valid file into the rules tasks carry, with their hash', () => {
    const file = join(folder, 'good.json');
    writeFileSync(file, JSON.stringify({ hl7: [{ path: 'PV1-3', method: 'keep' }] }));
    const loaded = loadFeedDeidRules('limited-data-set', file, 'adt');
    expect(loaded.rules.preset).toBe('limited-data-set');
    expect(loaded.rules.hl7).toEqual([{ path: 'PV1-3', method: 'keep' }]);
    expect(loaded.rulesHash).toBe(
      hashDeidRules(
        resolveDeidRules('limited-data-set', { hl7: [{ path: 'PV1-3', method: 'keep' }] }),
      ),
    );
    expect(loaded.rulesHash).not.toBe(hashDeidRules(resolveDeidRules('limited-data-set')));
  });
});
