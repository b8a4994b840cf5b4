import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import type { BenchFigure } from './suite.js';
import { renderBarChart, type ChartGroup } from './svg-chart.js';

/** The run a report describes. */
export interface BenchRunInfo {
  when: string;
  machine: { cpus: number; cpuModel: string; node: string };
  options: { sizeMb: number; seed: number };
  /** 1-minute load average when the run started and when it ended. */
  loadAverage: { start: number; end: number };
  /** The command line that made the run. */
  command: string;
}

const BEGIN = '<!-- bench:begin (written by npm run bench; edit outside these markers) -->';
const END = '<!-- bench:end -->';

const FORMATS = [
  { key: 'hl7v2', title: 'HL7 v2', records: 'msg/s' },
  { key: 'fhir', title: 'FHIR NDJSON', records: 'resources/s' },
] as const;

/**
 * Rewrites the measured section of docs/performance.md (between its markers; the text around
 * them is kept) and docs/performance.svg from one run's figures. Does nothing unless the run
 * measured the limits and the transform stage.
 *
 * @param docPath - the Markdown file
 * @param svgPath - the chart file, referenced from the Markdown by its base name
 * @param results - figures by suite
 * @param info - when, where and how the run was made
 */
export function writePerformanceDoc(
  docPath: string,
  svgPath: string,
  results: Record<string, BenchFigure[]>,
  info: BenchRunInfo,
): boolean {
  const figures = new Map(
    Object.values(results)
      .flat()
      .map((figure) => [figure.name, figure]),
  );
  if (!figures.has('limits.hl7v2.chain-bound') || !figures.has('transform.hl7v2.pool-2')) {
    return false;
  }

  writeFileSync(
    svgPath,
    renderBarChart({
      title: `Throughput against the per-core bound (${info.options.sizeMb} MB per corpus)`,
      unit: 'MB/s',
      groups: chartGroups(figures),
    }),
  );
  const svgName = svgPath.split('/').pop() ?? '';
  const section = [BEGIN, '', ...measuredSection(figures, info, svgName), '', END].join('\n');
  const existing = existsSync(docPath)
    ? readFileSync(docPath, 'utf8')
    : `# Performance\n\n${BEGIN}\n${END}\n`;
  const begin = existing.indexOf(BEGIN);
  const end = existing.indexOf(END);
  const updated =
    begin >= 0 && end > begin
      ? existing.slice(0, begin) + section + existing.slice(end + END.length)
      : `${existing.trimEnd()}\n\n${section}\n`;
  writeFileSync(docPath, updated);
  return true;
}

function chartGroups(figures: Map<string, BenchFigure>): ChartGroup[] {
  return FORMATS.map(({ key, title }) => {
    const bound = figures.get(`limits.${key}.chain-bound`)?.value ?? NaN;
    const measured = (label: string, name: string): ChartGroup['bars'][number] => ({
      label,
      value: value(figures, name),
      kind: 'measured',
    });
    const bars: ChartGroup['bars'] = [
      { label: 'per-core bound', value: bound, kind: 'limit' },
      measured('in-thread', `transform.${key}.single-thread`),
      measured('pool, 1 thread', `transform.${key}.pool-1`),
      { label: 'bound x 2 cores', value: bound * 2, kind: 'limit' },
      measured('pool, 2 threads', `transform.${key}.pool-2`),
    ];
    if (figures.has(`end-to-end.${key}`)) {
      bars.push(measured('end to end (Azurite)', `end-to-end.${key}`));
    }
    return { label: title, bars };
  });
}

function measuredSection(
  figures: Map<string, BenchFigure>,
  info: BenchRunInfo,
  svgName: string,
): string[] {
  const { machine, options, loadAverage } = info;
  const lines = [
    `Measured ${info.when.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpus} × ` +
      `${machine.cpuModel}, Node ${machine.node}; corpora of ${options.sizeMb} MB each, seed ` +
      `${options.seed}; load average ${loadAverage.start.toFixed(2)} at the start, ` +
      `${loadAverage.end.toFixed(2)} at the end. Command: \`${info.command}\`.`,
    '',
    `![Throughput against the per-core bound](${svgName})`,
    '',
    '| figure | HL7 v2 MB/s | of limit | msg/s | FHIR MB/s | of limit | resources/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const rows: Array<[string, string]> = [
    ['per-core bound (limits)', 'limits.%.chain-bound'],
    ['transform, in-thread', 'transform.%.single-thread'],
    ['transform, pool 1 thread', 'transform.%.pool-1'],
    ['transform, pool 2 threads', 'transform.%.pool-2'],
    ['end to end, drop to manifest', 'end-to-end.%'],
  ];
  for (const [label, pattern] of rows) {
    const cells = FORMATS.flatMap(({ key }) => {
      const name = pattern.replace('%', key);
      const figure = figures.get(name);
      const records = figures.get(`${name}.records`);
      return [
        figure ? figure.value.toFixed(1) : '–',
        figure?.ratioToLimit !== undefined ? percent(figure.ratioToLimit) : '–',
        records ? records.value.toFixed(0) : '–',
      ];
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  lines.push(
    '',
    '"of limit" is the figure over the per-core bound of the same run (two threads: over twice',
    'the bound; end to end: over the two-thread transform figure). The goal for the in-thread',
    'figure is judged on the paired rounds of the transform suite (the median of seven rounds,',
    "each timing the bound's legs and one in-thread pass seconds apart), since the bound of the",
    '`limits` suite was measured minutes earlier; the end-to-end goal likewise on the rounds of',
    'the end-to-end suite, each pairing a run with the same files through a two-thread pool.',
    '',
    '### Stage limits, per core, on the same bytes (MB/s)',
    '',
    '| stage | HL7 v2 | FHIR |',
    '| --- | ---: | ---: |',
  );
  const stageNames = new Set<string>();
  for (const name of figures.keys()) {
    const match = /^limits\.(?:hl7v2|fhir)\.([a-z0-9-]+)$/.exec(name);
    if (match && match[1] !== 'chain-bound') {
      stageNames.add(match[1]);
    }
  }
  for (const stage of stageNames) {
    const hl7 = cell(figures, `limits.hl7v2.${stage}`);
    lines.push(`| ${stage} | ${hl7} | ${cell(figures, `limits.fhir.${stage}`)} |`);
  }

  lines.push(
    '',
    '### Compression candidates on the NDJSON the pipeline writes, one thread',
    '',
    '| setting | HL7 v2 MB/s | ratio | FHIR MB/s | ratio |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const label of ['gzip-1', 'gzip-6', 'brotli-1', 'brotli-4']) {
    const hl7 = figures.get(`limits.hl7v2.compress.${label}`);
    const fhir = figures.get(`limits.fhir.compress.${label}`);
    lines.push(
      `| ${label} | ${hl7?.value.toFixed(0) ?? '–'} | ${hl7?.details?.ratio ?? '–'} | ` +
        `${fhir?.value.toFixed(0) ?? '–'} | ${fhir?.details?.ratio ?? '–'} |`,
    );
  }

  lines.push('', '### Goals', '', '| goal | HL7 v2 | FHIR |', '| --- | --- | --- |');
  const goal = (label: string, check: (key: string) => string): void => {
    lines.push(`| ${label} | ${check('hl7v2')} | ${check('fhir')} |`);
  };
  // The paired figure when the run has it: bound and stage timed seconds apart, round by round.
  goal('transform ≥ 80% of the per-core bound (in-thread, paired rounds)', (key) =>
    verdict(
      figures.get(`transform.${key}.single-thread.paired`)?.value ??
        figures.get(`transform.${key}.single-thread`)?.ratioToLimit,
      0.8,
      percent,
    ),
  );
  goal('2 threads ≥ 1.8 × 1 thread', (key) =>
    verdict(figures.get(`transform.${key}.scaling`)?.value, 1.8, (ratio) => `${ratio.toFixed(2)}x`),
  );
  goal('end to end ≥ 70% of the 2-thread transform (paired rounds)', (key) =>
    verdict(
      figures.get(`end-to-end.${key}.paired`)?.value ??
        figures.get(`end-to-end.${key}`)?.ratioToLimit,
      0.7,
      percent,
    ),
  );
  goal('de-identification < 1/3 of the transform stage (cpu, in-thread)', (key) => {
    const share = figures.get(`deid.${key === 'fhir' ? 'ndjson' : key}.stage-share-cpu`)?.value;
    if (share === undefined || !Number.isFinite(share)) {
      return 'not measured';
    }
    return `${share < 1 / 3 ? 'met' : 'not met'}: ${share.toFixed(2)}`;
  });
  const rss = figures.get('end-to-end.peak-rss');
  const largestMb = ((Number(rss?.details?.largestFileBytes) || 0) / 1e6).toFixed(0);
  const rssText = rss
    ? `${rss.value < 512 ? 'met' : 'not met'}: ${rss.value.toFixed(0)} MB ` +
      `(files of ${largestMb} MB)`
    : 'not measured';
  lines.push(`| peak RSS < 512 MB (pipeline process) | ${rssText} | |`);
  return lines;
}

function value(figures: Map<string, BenchFigure>, name: string): number {
  return figures.get(name)?.value ?? NaN;
}

function cell(figures: Map<string, BenchFigure>, name: string): string {
  const figure = figures.get(name);
  return figure ? figure.value.toFixed(0) : '–';
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

function verdict(
  ratio: number | undefined,
  target: number,
  show: (ratio: number) => string,
): string {
  if (ratio === undefined || !Number.isFinite(ratio)) {
    return 'not measured';
  }
  return `${ratio >= target ? 'met' : 'not met'}: ${show(ratio)}`;
}
