/** One bar: its label, value and whether it is a limit (drawn hollow) or a measurement. */
export interface ChartBar {
  label: string;
  value: number;
  kind: 'limit' | 'measured';
}

/** Bars drawn together under one heading, such as one input format. */
export interface ChartGroup {
  label: string;
  bars: ChartBar[];
}

export interface BarChart {
  title: string;
  unit: string;
  groups: ChartGroup[];
}

const WIDTH = 760;
const LABEL_WIDTH = 220;
const VALUE_WIDTH = 90;
const BAR_HEIGHT = 18;
const BAR_GAP = 6;
const GROUP_GAP = 18;
const TOP = 40;

/**
 * Draws horizontal bars as a self-contained SVG, in the order given: every bar on one scale
 * (the largest value spans the plot width), limits hollow and measurements filled, each with
 * its value printed. Hand-written SVG, so the benchmark needs no chart library.
 *
 * @param chart - title, unit and the groups of bars, top to bottom
 */
export function renderBarChart(chart: BarChart): string {
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const values = chart.groups.flatMap((group) => group.bars.map((bar) => bar.value));
  const max = Math.max(...values.filter((value) => Number.isFinite(value) && value > 0), 1);
  const rows: string[] = [];
  let y = TOP;
  for (const group of chart.groups) {
    rows.push(`<text x="8" y="${y + 12}" class="group">${escapeXml(group.label)}</text>`);
    y += BAR_HEIGHT + BAR_GAP;
    for (const bar of group.bars) {
      const value = Number.isFinite(bar.value) && bar.value > 0 ? bar.value : 0;
      const width = Math.max(1, Math.round((value / max) * plotWidth));
      const fill =
        bar.kind === 'limit'
          ? 'fill="none" stroke="#555" stroke-dasharray="4 2"'
          : 'fill="#3b6ea5"';
      const text = `${formatValue(value)} ${escapeXml(chart.unit)}`;
      rows.push(
        `<text x="${LABEL_WIDTH - 8}" y="${y + 13}" text-anchor="end">` +
          `${escapeXml(bar.label)}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${width}" height="${BAR_HEIGHT}" ${fill}/>`,
        `<text x="${LABEL_WIDTH + width + 6}" y="${y + 13}">${text}</text>`,
      );
      y += BAR_HEIGHT + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  const height = y;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
      `viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    '<style>.group { font-weight: bold; } .title { font-size: 15px; font-weight: bold; }</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="22" class="title">${escapeXml(chart.title)}</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}

function formatValue(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
