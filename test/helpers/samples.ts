import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { generateSamples } from '../../samples/generate.js';

/** Writes the generated samples under `dir` and returns their paths by feed and file name. */
export function writeSampleFiles(dir: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const sample of generateSamples({})) {
    const path = join(dir, sample.feed, sample.fileName);
    mkdirSync(join(dir, sample.feed), { recursive: true });
    writeFileSync(path, sample.bytes);
    paths.set(`${sample.feed}/${sample.fileName}`, path);
  }
  return paths;
}
