import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { PipelineError } from '../../pipeline/errors.js';
import { DEFAULT_FEED_SETTINGS, loadFeedCatalog } from '../../pipeline/feeds.js';

const dir = mkdtempSync(join(tmpdir(), 'phi-ingest-feeds-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadFeedCatalog', () => {
  it('gives every feed the defaults when there is no feeds file', () => {
    const catalog = loadFeedCatalog(join(dir, 'missing.json'));
    expect(catalog.settingsFor('lab-feed')).toEqual(DEFAULT_FEED_SETTINGS);
  });

  it('layers file defaults and per-feed overrides over the environment', () => {
    const path = join(dir, 'feeds.json');
    writeFileSync(
      path,
      JSON.stringify({ feeds: { 'legacy-lab': { acceptBatchCountMismatch: true } } }),
    );
    const catalog = loadFeedCatalog(path, { acceptBatchCountMismatch: false });
    expect(catalog.settingsFor('legacy-lab').acceptBatchCountMismatch).toBe(true);
    expect(catalog.settingsFor('adt-feed').acceptBatchCountMismatch).toBe(false);
    expect(catalog.settingsHash('legacy-lab')).not.toBe(catalog.settingsHash('adt-feed'));
    expect(catalog.settingsHash('adt-feed')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reads compression as a codec name or a codec with a level', () => {
    const path = join(dir, 'compression.json');
    writeFileSync(
      path,
      JSON.stringify({
        defaults: { compression: { codec: 'gzip', level: 6 } },
        feeds: { archive: { compression: 'brotli' }, lake: { compression: 'gzip' } },
      }),
    );
    const catalog = loadFeedCatalog(path);
    expect(DEFAULT_FEED_SETTINGS.compression).toEqual({ codec: 'gzip', level: 1 });
    expect(catalog.settingsFor('other').compression).toEqual({ codec: 'gzip', level: 6 });
    expect(catalog.settingsFor('archive').compression).toEqual({ codec: 'brotli', quality: 4 });
    expect(catalog.settingsFor('lake').compression).toEqual({ codec: 'gzip', level: 1 });
    writeFileSync(
      path,
      JSON.stringify({ feeds: { lake: { compression: { codec: 'gzip', level: 12 } } } }),
    );
    expect(() => loadFeedCatalog(path)).toThrowError(
      'Feeds file is invalid: feeds.lake.compression.level: must be at most 9',
    );
  });

  it('reports every problem with its path in the file and what was expected there', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({
        defaults: { compression: { codec: 'zstd' } },
        feeds: {
          'Bad Name': {},
          x: {
            acceptBatchCountMismach: true,
            deidentification: { preset: 'Zed Testperson' },
          },
          ok: { compression: 'lz4', acceptBatchCountMismatch: 'yes' },
        },
      }),
    );
    const error = errorOf(() => loadFeedCatalog(path));
    expect(error.code).toBe('CONFIG_INVALID');
    const compression =
      'expected gzip, brotli, { "codec": "gzip", "level": 1-9 } or { "codec": "brotli", "quality": 0-11 }';
    expect(error.message.split('; ')).toEqual([
      `Feeds file is invalid: defaults.compression: ${compression}`,
      'feeds.Bad Name: not a feed id (lowercase letters, digits and hyphens, up to 63, starting ' +
        'with a letter or digit)',
      'feeds.x.deidentification.preset: expected one of safe-harbor, limited-data-set, none',
      'feeds.x.acceptBatchCountMismach: unknown key',
      'feeds.ok.acceptBatchCountMismatch: expected boolean',
      `feeds.ok.compression: ${compression}`,
    ]);
    expect(error.message).not.toMatch(/Zed|Testperson|zstd|lz4|yes/);
  });

  it('places a JSON syntax error by line and column and reads a file with a byte order mark', () => {
    const path = join(dir, 'syntax.json');
    writeFileSync(path, '{\n  "feeds": {\n    "lab": { "compression": gzip }\n  }\n}\n');
    const error = errorOf(() => loadFeedCatalog(path));
    expect([error.code, error.message]).toEqual([
      'CONFIG_INVALID',
      'Feeds file is not valid JSON (line 3, column 29)',
    ]);
    writeFileSync(path, '{ "feeds": { "lab": {} }');
    expect(errorOf(() => loadFeedCatalog(path)).message).toBe(
      'Feeds file is not valid JSON (line 1, column 25: ends early)',
    );

    writeFileSync(path, `\uFEFF${JSON.stringify({ feeds: { lab: { compression: 'brotli' } } })}`);
    expect(loadFeedCatalog(path).settingsFor('lab').compression).toEqual({
      codec: 'brotli',
      quality: 4,
    });
  });

  it('gives a feed with a rules file and no preset the safe-harbor preset', () => {
    writeFileSync(join(dir, 'research-rules.yaml'), 'hl7:\n  - { path: PV1-3, method: keep }\n');
    const path = join(dir, 'rules-only.json');
    writeFileSync(
      path,
      JSON.stringify({
        defaults: { deidentification: { preset: 'none' } },
        feeds: { research: { deidentification: { rulesFile: 'research-rules.yaml' } } },
      }),
    );
    const catalog = loadFeedCatalog(path);
    expect(catalog.settingsFor('research').deidentification).toEqual({
      preset: 'safe-harbor',
      rulesFile: 'research-rules.yaml',
    });
    expect(catalog.deidRulesFor('research').rules).toMatchObject({
      preset: 'safe-harbor',
      hl7: [{ path: 'PV1-3', method: 'keep' }],
    });
    expect(catalog.settingsFor('other').deidentification).toEqual({ preset: 'none' });
  });
});

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
