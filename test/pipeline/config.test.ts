import { describe, expect, it } from 'vitest';

import { DEFAULTS, loadConfig } from '../../pipeline/config.js';

describe('loadConfig', () => {
  it('fills every default', () => {
    const config = loadConfig({});
    expect(config.maxAttempts).toBe(DEFAULTS.maxAttempts);
    expect(config.queueVisibilityTimeoutSec).toBe(60);
    expect(config.homeDir.endsWith('.phi-ingest')).toBe(true);
    expect(config.keyFile.endsWith('.phi-ingest/keys.json')).toBe(true);
    expect(config.connectionString).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads typed values from the environment', () => {
    const config = loadConfig({
      PHI_INGEST_MAX_ATTEMPTS: '3',
      PHI_INGEST_ACCEPT_BATCH_COUNT_MISMATCH: 'true',
    });
    expect(config.maxAttempts).toBe(3);
    expect(config.acceptBatchCountMismatch).toBe(true);
  });

  it('refuses a feeds file named on purpose that does not exist, and allows the default one absent', () => {
    expect(() => loadConfig({ PHI_INGEST_FEEDS_FILE: '/nonexistent/feeds.json' })).toThrow(
      /PHI_INGEST_FEEDS_FILE names a file that does not exist/,
    );
    expect(loadConfig({ PHI_INGEST_HOME: '/nonexistent-home' }).feedsFile).toBe(
      '/nonexistent-home/feeds.json',
    );
  });

  it('says a number setting given text is not a whole number', () => {
    expect(() => loadConfig({ PHI_INGEST_MAX_ATTEMPTS: 'abc' })).toThrow(
      'Invalid configuration: PHI_INGEST_MAX_ATTEMPTS is not a whole number',
    );
  });

  it('reports every bad variable together, by name and never by value', () => {
    const secret = 'AccountKey=c2VjcmV0';
    let message = '';
    try {
      loadConfig({
        PHI_INGEST_MAX_THREADS: '-2',
        PHI_INGEST_LOG_LEVEL: secret,
        PHI_INGEST_TYPO: '1',
      });
    } catch (error) {
      message = (error as Error).message;
      expect((error as { code: string }).code).toBe('CONFIG_INVALID');
    }
    expect(message).toContain('PHI_INGEST_MAX_THREADS');
    expect(message).toContain('PHI_INGEST_LOG_LEVEL');
    expect(message).toContain('PHI_INGEST_TYPO is not a known setting');
    expect(message).not.toContain(secret);
  });
});
