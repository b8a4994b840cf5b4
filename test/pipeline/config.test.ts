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

  it('names the limit a number or text setting broke, and the values a choice allows', () => {
    const messageOf = (env: NodeJS.ProcessEnv): string => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(
      [
        { PHI_INGEST_MAX_THREADS: '0' },
        { PHI_INGEST_RECEIVE_BATCH_SIZE: '33' },
        { PHI_INGEST_WINDOW_BYTES: '512' },
        { PHI_INGEST_KEY_FILE: '' },
        { PHI_INGEST_MAX_ATTEMPTS: '2.5' },
        { PHI_INGEST_LOG_LEVEL: 'loud' },
      ].map(messageOf),
    ).toEqual([
      'Invalid configuration: PHI_INGEST_MAX_THREADS must be at least 1',
      'Invalid configuration: PHI_INGEST_RECEIVE_BATCH_SIZE must be at most 32',
      'Invalid configuration: PHI_INGEST_WINDOW_BYTES must be at least 1024',
      'Invalid configuration: PHI_INGEST_KEY_FILE must not be empty',
      'Invalid configuration: PHI_INGEST_MAX_ATTEMPTS is not a whole number',
      'Invalid configuration: PHI_INGEST_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
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
