/**
 * `npm run bench [-- --only a,b] [--size-mb N] [--seed N]`: runs the benchmark suites in one
 * process, prints every figure and writes them as JSON under `bench/results/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

import type { BenchFigure, BenchOptions } from './suite.js';
import { SUITES } from './suites/index.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      'size-mb': { type: 'string', default: '16' },
      seed: { type: 'string', default: '20261203' },
    },
  });
  const options: BenchOptions = { sizeMb: Number(values['size-mb']), seed: Number(values.seed) };
  if (!(options.sizeMb > 0) || !Number.isInteger(options.seed)) {
    throw new Error('--size-mb must be a positive number and --seed an integer');
  }
  const only = values.only?.split(',').map((name) => name.trim());
  const suites = SUITES.filter((suite) => !only || only.includes(suite.name));
  if (suites.length === 0) {
    throw new Error(`No suite matches --only; suites: ${SUITES.map((suite) => suite.name).join(', ')}`);
  }

  const results: Record<string, BenchFigure[]> = {};
  for (const suite of suites) {
    process.stdout.write(`\n== ${suite.name}: ${suite.description}\n`);
    const figures = await suite.run(options);
    results[suite.name] = figures;
    for (const figure of figures) {
      const details = figure.details
        ? '  ' + Object.entries(figure.details).map(([key, value]) => `${key}=${value}`).join(' ')
        : '';
      process.stdout.write(`${figure.label.padEnd(48)} ${format(figure.value).padStart(12)} ${figure.unit}${details}\n`);
    }
  }

  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', node: process.version };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const path = new URL(`./results/bench-${stamp}.json`, import.meta.url);
  writeFileSync(path, JSON.stringify({ when: new Date().toISOString(), machine, options, results }, null, 2));
  process.stdout.write(`\nResults written to bench/results/bench-${stamp}.json\n`);
}

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
