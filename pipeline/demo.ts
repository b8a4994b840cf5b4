/**
 * `npm run demo`: the main job end to end on embedded Azurite. Generates the synthetic samples
 * when missing, drops them as hospital feeds would, runs the orchestrator until the inbound
 * queue is empty and prints the summary.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { generateSamples } from '../samples/generate.js';
import { drain, openApp } from './app.js';
import { loadConfig } from './config.js';
import { dropFiles } from './drop.js';
import { describeError } from './errors.js';
import { countText, formatRunSummary } from './summary.js';

const SAMPLES_DIR = fileURLToPath(new URL('../samples/generated/', import.meta.url));

async function runDemo(): Promise<void> {
  // The demo's story is the summary; lifecycle logs stay available with PHI_INGEST_LOG_LEVEL=info.
  const config = loadConfig(
    process.env,
    process.env.PHI_INGEST_LOG_LEVEL ? {} : { logLevel: 'warn' },
  );
  const files = ensureSamples(SAMPLES_DIR);
  const app = await openApp(config, { keys: 'create', pool: true });
  try {
    process.stdout.write(
      `storage: ${app.storage.kind} (data in ${relative(process.cwd(), config.homeDir) || '.'})\n`,
    );
    const feeds = [...new Set(files.map((file) => file.feed))].sort();
    for (const feed of feeds) {
      const paths = files.filter((file) => file.feed === feed).map((file) => file.path);
      await dropFiles(app.storage, feed, paths);
      process.stdout.write(`dropped ${countText(paths.length, 'file')} for feed ${feed}\n`);
    }

    const report = await drain(app);
    process.stdout.write('\n' + formatRunSummary(report) + '\n');
    process.stdout.write('\nQueue depths and recent batches: npx phi-ingest status\n');
  } finally {
    await app.close();
  }
}

/** Writes the samples unless they exist already, and lists them with their feeds. */
function ensureSamples(dir: string): Array<{ feed: string; path: string }> {
  const samples = generateSamples({});
  return samples.map((sample) => {
    const path = join(dir, sample.feed, sample.fileName);
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, sample.bytes);
    }
    return { feed: sample.feed, path };
  });
}

runDemo().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${describeError(error)}\n`);
  process.exitCode = 1;
});
