import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

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
    expect(() => loadFeedCatalog(path)).toThrowError(/feeds\.lake\.compression/);
  });

  it('reports every problem with its path in the file', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({ feeds: { 'Bad Name': {}, ok: { compression: 'zip', extra: 1 } } }),
    );
    expect(() => loadFeedCatalog(path)).toThrowError(
      /feeds\.Bad Name.*feeds\.ok\.compression.*feeds\.ok/s,
    );
  });
});
