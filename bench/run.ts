/**
 * `npm run bench [-- --only a,b] [--size-mb N] [--seed N]`: runs the benchmark suites in one
 * process, prints every figure (with its ratio to the limit measured in the same run), writes
 * them as JSON under `bench/results/` and, when the limits and transform suites ran, rewrites
 * the measured section of docs/performance.md and docs/performance.svg.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { writePerformanceDoc } from './performance-doc.js';
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
    throw new Error(
      `No suite matches --only; suites: ${SUITES.map((suite) => suite.name).join(', ')}`,
    );
  }

  const loadAtStart = loadavg()[0];
  process.stdout.write(
    `load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}\n`,
  );
  const results: Record<string, BenchFigure[]> = {};
  const byName = new Map<string, BenchFigure>();
  for (const suite of suites) {
    process.stdout.write(`\n== ${suite.name}: ${suite.description}\n`);
    const figures = await suite.run(options);
    results[suite.name] = figures;
    for (const figure of figures) {
      byName.set(figure.name, figure);
      const limit = figure.limit ? byName.get(figure.limit) : undefined;
      if (limit) {
        figure.ratioToLimit = figure.value / (limit.value * (figure.limitScale ?? 1));
      }
      const ratio =
        figure.ratioToLimit === undefined
          ? ''
          : `  ${(figure.ratioToLimit * 100).toFixed(0)}% of limit`;
      const details = figure.details
        ? '  ' +
          Object.entries(figure.details)
            .map(([key, value]) => `${key}=${value}`)
            .join(' ')
        : '';
      const value = format(figure.value).padStart(12);
      const line = `${figure.label.padEnd(48)} ${value} ${figure.unit}${ratio}${details}`;
      process.stdout.write(`${line}\n`);
    }
  }

  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', node: process.version };
  const loadAverage = { start: loadAtStart, end: loadavg()[0] };
  const when = new Date().toISOString();
  const stamp = when.replace(/[:.]/g, '-');
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const path = new URL(`./results/bench-${stamp}.json`, import.meta.url);
  writeFileSync(path, JSON.stringify({ when, machine, loadAverage, options, results }, null, 2));
  process.stdout.write(`\nResults written to bench/results/bench-${stamp}.json\n`);
  process.stdout.write(
    `load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}\n`,
  );

  const docPath = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
  const svgPath = fileURLToPath(new URL('../docs/performance.svg', import.meta.url));
  const command = ['npm run bench', '--', ...process.argv.slice(2)].join(' ').replace(/ --$/, '');
  const info = { when, machine, options, loadAverage, command };
  if (writePerformanceDoc(docPath, svgPath, results, info)) {
    process.stdout.write('docs/performance.md and docs/performance.svg updated\n');
  }
}

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
