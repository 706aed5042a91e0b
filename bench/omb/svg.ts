/**
 * A small SVG writer for the benchmark charts: grouped bar charts (one group per category, one bar
 * per series), stacked vertically into one standalone SVG document that a browser opens as is.
 * Text is XML-escaped; bar heights use a linear or log10 scale from 0 (or 1 for log) to the top.
 */

export interface BarSeries {
  readonly name: string;
  /** One value per category; NaN or a negative value draws no bar. */
  readonly values: readonly number[];
  /** Fill colour; default: the palette colour of the series' position. */
  readonly color?: string;
}

export interface BarChart {
  readonly title: string;
  readonly unit: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  readonly logScale?: boolean;
}

export const svgDefaults = Object.freeze({
  width: 900, // px of the document
  chartHeight: 340, // px of one chart, title and legend included
  marginLeft: 80, // px for the axis labels
  marginTop: 40, // px for the title
  marginBottom: 70, // px for category labels and the legend
  legendItemWidth: 190, // px per legend entry; entries wrap onto more rows
  legendRowHeight: 18, // px
  palette: [
    '#1f77b4',
    '#ff7f0e',
    '#2ca02c',
    '#d62728',
    '#9467bd',
    '#8c564b',
    '#e377c2',
    '#7f7f7f',
    '#bcbd22',
    '#17becf',
    '#393b79',
    '#ad494a',
  ],
});

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

function formatTick(value: number): string {
  if (value >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toPrecision(3)}k`;
  return `${+value.toPrecision(3)}`;
}

function scale(chart: BarChart, plotHeight: number): { y: (value: number) => number; ticks: number[] } {
  const values = chart.series.flatMap((series) => series.values).filter((value) => value > 0);
  const top = values.length === 0 ? 1 : Math.max(...values);
  if (chart.logScale === true) {
    const decades = Math.max(1, Math.ceil(Math.log10(top)));
    const y = (value: number): number => (Math.log10(Math.max(1, value)) / decades) * plotHeight;
    return { y, ticks: Array.from({ length: decades + 1 }, (_, power) => 10 ** power) };
  }
  const step = 10 ** Math.floor(Math.log10(top));
  const rounded = Math.ceil(top / step) * step;
  const y = (value: number): number => (value / rounded) * plotHeight;
  return { y, ticks: Array.from({ length: 5 }, (_, index) => (rounded * index) / 4) };
}

function legendPerRow(): number {
  return Math.max(1, Math.floor((svgDefaults.width - svgDefaults.marginLeft) / svgDefaults.legendItemWidth));
}

/** Height of one chart: the base height plus the legend rows past the first. */
function chartHeightOf(chart: BarChart): number {
  const rows = Math.ceil(Math.max(1, chart.series.length) / legendPerRow());
  return svgDefaults.chartHeight + (rows - 1) * svgDefaults.legendRowHeight;
}

function renderChart(chart: BarChart, offsetY: number): string {
  const { width, chartHeight, marginLeft, marginTop, marginBottom, palette } = svgDefaults;
  const plotWidth = width - marginLeft - 20;
  const plotHeight = chartHeight - marginTop - marginBottom;
  const { y, ticks } = scale(chart, plotHeight);
  const baseline = marginTop + plotHeight;
  const groupWidth = plotWidth / Math.max(1, chart.categories.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, chart.series.length);
  const parts: string[] = [`<g transform="translate(0,${offsetY})">`];
  parts.push(
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`,
  );
  for (const tick of ticks) {
    const tickY = (baseline - y(tick)).toFixed(1);
    parts.push(`<line x1="${marginLeft}" x2="${width - 20}" y1="${tickY}" y2="${tickY}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${marginLeft - 6}" y="${tickY}" text-anchor="end" font-size="11" dominant-baseline="middle">${escapeXml(formatTick(tick))}</text>`,
    );
  }
  parts.push(
    `<text x="14" y="${marginTop + plotHeight / 2}" font-size="12" transform="rotate(-90 14 ${marginTop + plotHeight / 2})" text-anchor="middle">${escapeXml(chart.unit)}</text>`,
  );
  chart.categories.forEach((category, group) => {
    const groupX = marginLeft + group * groupWidth + groupWidth * 0.1;
    chart.series.forEach((series, index) => {
      const value = series.values[group] ?? Number.NaN;
      if (!(value >= 0)) return;
      const height = y(value);
      const x = (groupX + index * barWidth).toFixed(1);
      parts.push(
        `<rect x="${x}" y="${(baseline - height).toFixed(1)}" width="${(barWidth * 0.9).toFixed(1)}" height="${height.toFixed(1)}" fill="${series.color ?? palette[index % palette.length]}"><title>${escapeXml(`${series.name} ${category}: ${formatTick(value)} ${chart.unit}`)}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${(groupX + groupWidth * 0.4).toFixed(1)}" y="${baseline + 16}" text-anchor="middle" font-size="12">${escapeXml(category)}</text>`,
    );
  });
  parts.push(`<line x1="${marginLeft}" x2="${width - 20}" y1="${baseline}" y2="${baseline}" stroke="#333"/>`);
  chart.series.forEach((series, index) => {
    const x = marginLeft + (index % legendPerRow()) * svgDefaults.legendItemWidth;
    const legendY = baseline + 40 + Math.floor(index / legendPerRow()) * svgDefaults.legendRowHeight;
    parts.push(
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${series.color ?? palette[index % palette.length]}"/>`,
    );
    parts.push(`<text x="${x + 16}" y="${legendY}" font-size="12">${escapeXml(series.name)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** One SVG document holding `charts` one under the other. */
export function renderSvg(charts: readonly BarChart[]): string {
  const heights = charts.map(chartHeightOf);
  const height = Math.max(
    svgDefaults.chartHeight,
    heights.reduce((sum, value) => sum + value, 0),
  );
  const offsets = heights.map((_, index) => heights.slice(0, index).reduce((sum, value) => sum + value, 0));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${svgDefaults.width}" height="${height}" viewBox="0 0 ${svgDefaults.width} ${height}" font-family="sans-serif">`,
    `<rect width="${svgDefaults.width}" height="${height}" fill="white"/>`,
    ...charts.map((chart, index) => renderChart(chart, offsets[index] ?? 0)),
    '</svg>',
    '',
  ].join('\n');
}
