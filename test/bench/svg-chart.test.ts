import { describe, expect, it } from 'vitest';

import { renderBarChart } from '../../bench/svg-chart.js';

describe('renderBarChart', () => {
  const svg = renderBarChart({
    title: 'Throughput <MB/s>',
    unit: 'MB/s',
    groups: [
      {
        label: 'HL7 v2',
        bars: [
          { label: 'bound', value: 40, kind: 'limit' },
          { label: 'one thread', value: 20, kind: 'measured' },
        ],
      },
      { label: 'FHIR', bars: [{ label: 'two threads', value: 80, kind: 'measured' }] },
    ],
  });

  it('draws the bars top to bottom in the order given, scaled to the largest', () => {
    const bars = [...svg.matchAll(/<rect x="220" y="(\d+)" width="(\d+)"/g)].map((match) => ({
      y: Number(match[1]),
      width: Number(match[2]),
    }));
    expect(bars.map((bar) => bar.width)).toEqual([225, 113, 450]);
    expect(bars.map((bar) => bar.y)).toEqual([...bars.map((bar) => bar.y)].sort((a, b) => a - b));
    expect(svg.indexOf('bound')).toBeLessThan(svg.indexOf('one thread'));
    expect(svg.indexOf('one thread')).toBeLessThan(svg.indexOf('two threads'));
  });

  it('draws limits hollow and measurements filled, and escapes text', () => {
    expect(svg).toMatch(/width="225" height="18" fill="none"/);
    expect(svg).toMatch(/width="450" height="18" fill="#3b6ea5"/);
    expect(svg).toContain('Throughput &#60;MB/s&#62;');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  });
});
