import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { z } from 'zod';

import { DEFAULT_COMPRESSION, type Compression } from '../transforms/compression.js';
import type { DeidPreset } from '../transforms/deid/rules.js';
import { parseJsonText } from '../transforms/json-text.js';
import { describeIssues, type IssueTexts } from '../transforms/schema-issues.js';
import { loadFeedDeidRules } from './deid-rules-file.js';
import type { FeedDeidRules } from './deid-rules-file.js';
import { PipelineError } from './errors.js';

/** Per-feed settings: what one inbound interface needs that another may not. */
export interface FeedSettings {
  /** Accept HL7 batch files whose BTS-1/FTS-1 count is wrong, recording it in the manifest. */
  acceptBatchCountMismatch: boolean;
  /**
   * Compression of output parts, the archive and rejects before encryption. In the file: `"gzip"`
   * (level 1), `"brotli"` (quality 4), `{ "codec": "gzip", "level": 1-9 }` or
   * `{ "codec": "brotli", "quality": 0-11 }`; see docs/performance.md for the default.
   */
  compression: Compression;
  /**
   * De-identification preset (`safe-harbor` when the file leaves it out) and, optionally, a rules
   * file (JSON or YAML, relative to the feeds file) whose rules are tried before the preset's; see
   * docs/deidentification.md.
   */
  deidentification: { preset: DeidPreset; rulesFile?: string };
}

/** The feeds file: defaults for every feed, then overrides by feed id. */
export interface FeedCatalog {
  settingsFor(feedId: string): Readonly<FeedSettings>;
  /** Hash of the settings that shape a feed's output, recorded in each manifest. */
  settingsHash(feedId: string): string;
  /** The feed's resolved de-identification rules, read once, for transform tasks. */
  deidRulesFor(feedId: string): Readonly<FeedDeidRules>;
}

const compressionSchema = z.union([
  z.literal('gzip').transform((): Compression => ({ ...DEFAULT_COMPRESSION })),
  z.literal('brotli').transform((): Compression => ({ codec: 'brotli', quality: 4 })),
  z.object({ codec: z.literal('gzip'), level: z.number().int().min(1).max(9) }).strict(),
  z.object({ codec: z.literal('brotli'), quality: z.number().int().min(0).max(11) }).strict(),
]);

const feedSettingsSchema = z
  .object({
    acceptBatchCountMismatch: z.boolean(),
    compression: compressionSchema,
    deidentification: z
      .object({
        // A feed's `deidentification` replaces the one in `defaults` as a whole; without a
        // preset it is the documented default, never none.
        preset: z.enum(['safe-harbor', 'limited-data-set', 'none']).default('safe-harbor'),
        rulesFile: z.string().min(1).optional(),
      })
      .strict(),
  })
  .strict();

// What the file's one union and its feed-id keys accept, in the file's own terms.
const ISSUE_TEXTS: IssueTexts = {
  union:
    'expected gzip, brotli, { "codec": "gzip", "level": 1-9 } or { "codec": "brotli", "quality": 0-11 }',
  recordKey:
    'not a feed id (lowercase letters, digits and hyphens, up to 63, starting with a letter or digit)',
};

const feedsFileSchema = z
  .object({
    defaults: feedSettingsSchema.partial().optional(),
    feeds: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), feedSettingsSchema.partial())
      .optional(),
  })
  .strict();

/** Settings of a feed the feeds file does not name. */
export const DEFAULT_FEED_SETTINGS: Readonly<FeedSettings> = Object.freeze({
  acceptBatchCountMismatch: false,
  compression: DEFAULT_COMPRESSION,
  deidentification: Object.freeze({ preset: 'safe-harbor' as const }),
});

/**
 * Loads the feeds file (JSON) when there is one. Every problem is reported with its path in the
 * file, together.
 *
 * @param path - the feeds file; a missing file means every feed uses the defaults
 * @param base - defaults from the environment, which the file's `defaults` override
 */
export function loadFeedCatalog(
  path: string | undefined,
  base: Partial<FeedSettings> = {},
): FeedCatalog {
  let file: z.infer<typeof feedsFileSchema> = {};
  if (path && existsSync(path)) {
    const text = parseJsonText(readFileSync(path, 'utf8'));
    if (!text.ok) {
      throw new PipelineError('CONFIG_INVALID', `Feeds file is not valid JSON (${text.place})`);
    }
    const parsed = feedsFileSchema.safeParse(text.value);
    if (!parsed.success) {
      const problems = describeIssues(parsed.error.issues, ISSUE_TEXTS);
      throw new PipelineError('CONFIG_INVALID', `Feeds file is invalid: ${problems.join('; ')}`);
    }
    file = parsed.data;
  }

  const defaults: FeedSettings = { ...DEFAULT_FEED_SETTINGS, ...base, ...file.defaults };
  const cache = new Map<string, Readonly<FeedSettings>>();
  const settingsFor = (feedId: string): Readonly<FeedSettings> => {
    let settings = cache.get(feedId);
    if (!settings) {
      settings = Object.freeze({ ...defaults, ...file.feeds?.[feedId] });
      cache.set(feedId, settings);
    }
    return settings;
  };
  // Rules files are read and checked up front, so a bad one stops start-up, not a batch.
  const baseDir = path ? dirname(path) : process.cwd();
  const rulesCache = new Map<string, Readonly<FeedDeidRules>>();
  const deidRulesFor = (feedId: string): Readonly<FeedDeidRules> => {
    let rules = rulesCache.get(feedId);
    if (!rules) {
      const { preset, rulesFile } = settingsFor(feedId).deidentification;
      const rulesPath = rulesFile === undefined ? undefined : resolve(baseDir, rulesFile);
      rules = Object.freeze(loadFeedDeidRules(preset, rulesPath, feedId));
      rulesCache.set(feedId, rules);
    }
    return rules;
  };
  for (const feedId of ['(defaults)', ...Object.keys(file.feeds ?? {})]) {
    deidRulesFor(feedId);
  }

  return {
    settingsFor,
    deidRulesFor,
    // The rules' content is hashed, not the file's name, so an edited rules file shows.
    settingsHash: (feedId) =>
      createHash('sha256')
        .update(JSON.stringify(settingsFor(feedId)))
        .update(deidRulesFor(feedId).rulesHash)
        .digest('hex')
        .slice(0, 16),
  };
}
