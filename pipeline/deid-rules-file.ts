import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

import { checkFhirPath } from '../transforms/deid/compile.js';
import { hashDeidRules, parseDeidRulesFile, resolveDeidRules } from '../transforms/deid/rules.js';
import type { DeidPreset, DeidRules } from '../transforms/deid/rules.js';
import { PipelineError } from './errors.js';

/** A feed's resolved rules and their hash, as transform tasks carry them. */
export interface FeedDeidRules {
  rules: DeidRules;
  rulesHash: string;
}

/**
 * Reads a feed's rules file (`.json`, `.yaml` or `.yml`) and combines it with the preset.
 * Every problem in the file is reported together, each with its path in the file.
 *
 * @param preset - the feed's preset
 * @param rulesFile - absolute path of the rules file, if the feed has one
 * @param feedId - named in error messages
 */
export function loadFeedDeidRules(
  preset: DeidPreset,
  rulesFile: string | undefined,
  feedId: string,
): FeedDeidRules {
  if (rulesFile === undefined) {
    const rules = resolveDeidRules(preset);
    return { rules, rulesHash: hashDeidRules(rules) };
  }

  let text: string;
  try {
    text = readFileSync(rulesFile, 'utf8');
  } catch (cause) {
    // The path comes from feeds.json, not from a feed's data, so it can be named.
    const code = (cause as { code?: unknown }).code;
    const reason = typeof code === 'string' ? code : 'read failed';
    throw new PipelineError(
      'CONFIG_INVALID',
      `Rules file of feed ${feedId} cannot be read (${reason}): ${rulesFile}`,
      { cause },
    );
  }
  const format = extname(rulesFile).toLowerCase() === '.json' ? 'json' : 'yaml';
  const parsed = parseDeidRulesFile(text, format, checkFhirPath);
  if (!parsed.ok) {
    throw new PipelineError(
      'CONFIG_INVALID',
      `Rules file of feed ${feedId} is invalid: ${parsed.problems.join('; ')}`,
    );
  }
  const rules = resolveDeidRules(preset, parsed.rules);
  return { rules, rulesHash: hashDeidRules(rules) };
}
