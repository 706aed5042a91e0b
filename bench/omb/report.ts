/**
 * Turns a result file into what a reader sees: the Markdown section appended to BENCHMARKS.md
 * (machine, ceilings, versions and durability, every figure, Tide/peer ratios, the goals) and the
 * SVG chart (end-to-end latency percentiles and throughput per system).
 */
import { formatMachine, markdownTable } from '../machine.ts';
import type { Percentiles } from './histogram.ts';
import type { ResultFile, RunResult } from './schema.ts';
import { type BarChart, renderSvg, svgDefaults } from './svg.ts';

const tideSystems = new Set(['tide', 'tide-fsync', 'tide-rf3']);
/** Not a broker: the harness's own floor, shown beside the systems but left out of ratios and goals. */
const referenceSystems = new Set(['harness-floor']);
const isPeer = (run: RunResult): boolean => !tideSystems.has(run.system) && !referenceSystems.has(run.system);

export const goals = Object.freeze({
  throughputOverBestPeer: 1.5, // × the best peer's max rate, 16 partitions × 1 KiB
  ofSequentialWrite: 0.5, // fraction of the sequential-write ceiling, 1 KiB records
  latencyP99Us: 2_000, // µs, RF 1 at 50,000 msg/s × 1 KiB
  latencyP999Us: 10_000, // µs, RF 1
  replicatedP99Us: 5_000, // µs, RF 3 acks=all
  rssBytesMax: 100 * 1024 * 1024, // bytes of SPU RSS under the latency workload
});

const us = (value: number): string =>
  value >= 10_000
    ? `${(value / 1000).toFixed(0)} ms`
    : value >= 1000
      ? `${(value / 1000).toFixed(1)} ms`
      : `${value} µs`;
const count = (value: number): string => Math.round(value).toLocaleString('en-US');
const percent = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const gbps = (bytesPerSecond: number): string => `${(bytesPerSecond / 1e9).toFixed(2)} GB/s`;
const spread = (p: Percentiles): string =>
  `${us(p.p50)} / ${us(p.p90)} / ${us(p.p99)} / ${us(p.p999)} / ${us(p.max)}`;

function figuresTable(runs: readonly RunResult[]): string {
  const rows = runs.map((run) => [
    run.workload,
    `**${run.system}**${run.ok ? '' : ' (failed)'}`,
    run.targetRate === 0 ? '—' : count(run.targetRate),
    `${count(run.publish.messagesPerSecond)} (${run.publish.megabytesPerSecond} MB/s)`,
    `${count(run.consume.messagesPerSecond)} (${run.consume.megabytesPerSecond} MB/s)`,
    spread(run.publishLatencyUs),
    spread(run.endToEndLatencyUs),
    `${us(run.publishDelayUs.p99)} / ${us(run.publishDelayUs.max)}`,
    `${mib(run.server.rssMaxBytes)} / ${run.server.cpuPercent} %`,
    `${percent(run.ofSequentialWrite)} / ${percent(run.ofLoopback)}`,
  ]);
  return markdownTable(
    [
      'workload',
      'system',
      'target msg/s',
      'publish msg/s',
      'consume msg/s',
      'publish latency p50 / p90 / p99 / p99.9 / max',
      'end-to-end p50 / p90 / p99 / p99.9 / max',
      'publish delay p99 / max',
      'server RSS max / CPU',
      'of seq. write / loopback',
    ],
    rows,
  );
}

function systemsTable(runs: readonly RunResult[]): string {
  const seen = new Map<string, RunResult>();
  for (const run of runs) if (run.ok && !seen.has(run.system)) seen.set(run.system, run);
  const rows = [...seen.values()].map((run) => [
    run.system,
    run.version,
    run.durability,
    Object.entries(run.settings)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(', '),
  ]);
  return markdownTable(['system', 'version', 'durability of an acknowledged message', 'settings'], rows);
}

function ratiosTable(runs: readonly RunResult[]): string {
  const rows: string[][] = [];
  for (const tide of runs.filter((run) => run.ok && tideSystems.has(run.system))) {
    for (const peer of runs.filter((run) => run.ok && run.workload === tide.workload && isPeer(run))) {
      const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
      rows.push([
        tide.workload,
        `${tide.system} / ${peer.system}`,
        ratio(tide.publish.messagesPerSecond, peer.publish.messagesPerSecond),
        ratio(tide.consume.messagesPerSecond, peer.consume.messagesPerSecond),
        ratio(tide.endToEndLatencyUs.p99, peer.endToEndLatencyUs.p99),
        ratio(tide.endToEndLatencyUs.p999, peer.endToEndLatencyUs.p999),
      ]);
    }
  }
  if (rows.length === 0) return '';
  return markdownTable(
    ['workload', 'Tide / peer', 'publish rate', 'consume rate', 'e2e p99 (lower is better)', 'e2e p99.9'],
    rows,
  );
}

function find(runs: readonly RunResult[], system: string, workload: string): RunResult | undefined {
  return runs.find((run) => run.ok && run.system === system && run.workload === workload);
}

/** One row per goal that this file has the runs for: goal, figure, met or not. */
export function goalRows(file: ResultFile): string[][] {
  const rows: string[][] = [];
  const mark = (met: boolean): string => (met ? 'met' : '**not met**');
  const throughput = find(file.runs, 'tide', 'throughput-16p-1kb');
  const peers = file.runs.filter((run) => run.ok && run.workload === 'throughput-16p-1kb' && isPeer(run));
  if (throughput !== undefined && peers.length > 0) {
    const best = peers.reduce((a, b) => (b.publish.messagesPerSecond > a.publish.messagesPerSecond ? b : a));
    const ratio = throughput.publish.messagesPerSecond / Math.max(1, best.publish.messagesPerSecond);
    rows.push([
      `throughput ≥ ${goals.throughputOverBestPeer}× best peer`,
      `${ratio.toFixed(2)}× ${best.system}`,
      mark(ratio >= goals.throughputOverBestPeer),
    ]);
  }
  if (throughput !== undefined)
    rows.push([
      `throughput ≥ ${goals.ofSequentialWrite * 100} % of sequential write`,
      percent(throughput.ofSequentialWrite),
      mark(throughput.ofSequentialWrite >= goals.ofSequentialWrite),
    ]);
  const latency = find(file.runs, 'tide', 'latency-1p-1kb');
  if (latency !== undefined) {
    const e2e = latency.endToEndLatencyUs;
    rows.push([
      `RF 1 e2e p99 ≤ ${us(goals.latencyP99Us)} at ${count(latency.targetRate)} msg/s`,
      us(e2e.p99),
      mark(e2e.p99 <= goals.latencyP99Us),
    ]);
    rows.push([
      `RF 1 e2e p99.9 ≤ ${us(goals.latencyP999Us)}`,
      us(e2e.p999),
      mark(e2e.p999 <= goals.latencyP999Us),
    ]);
    rows.push([
      `SPU RSS ≤ ${mib(goals.rssBytesMax)} (latency workload)`,
      mib(latency.server.rssMaxBytes),
      mark(latency.server.rssMaxBytes <= goals.rssBytesMax),
    ]);
    const kept = latency.publish.messagesPerSecond >= latency.targetRate * 0.98;
    rows.push([
      'latency run kept its target rate',
      `${count(latency.publish.messagesPerSecond)} of ${count(latency.targetRate)} msg/s`,
      mark(kept),
    ]);
  }
  const replicated = find(file.runs, 'tide-rf3', 'latency-1p-1kb');
  if (replicated !== undefined)
    rows.push([
      `RF 3 acks=all e2e p99 ≤ ${us(goals.replicatedP99Us)}`,
      us(replicated.endToEndLatencyUs.p99),
      mark(replicated.endToEndLatencyUs.p99 <= goals.replicatedP99Us),
    ]);
  return rows;
}

export function markdownSection(file: ResultFile, files: { json: string; svg: string }): string {
  const failed = file.runs.filter((run) => !run.ok);
  const goalsRows = goalRows(file);
  const parts = [
    `## ${file.startedAt} — ${file.suite}${file.quick ? ' (quick)' : ''}`,
    '',
    `Machine: ${formatMachine(file.machine)}. Result file: \`${files.json}\`; chart: [${files.svg}](${files.svg}).`,
    '',
    `Ceilings (same run): sequential write ${gbps(file.ceilings.sequentialWriteBytesPerSecond)} (${file.ceilings.sequentialWriteMethod}); one loopback TCP connection between Node sockets ${gbps(file.ceilings.loopbackBytesPerSecond)}.`,
    '',
    ...file.notes.map((note) => `- ${note}`),
    '',
    systemsTable(file.runs),
    '',
    'Latencies in µs unless marked ms; MB = 10^6 bytes of payload; "of seq. write / loopback" = publish bandwidth over each ceiling.',
    '',
    figuresTable(file.runs),
    '',
    ratiosTable(file.runs),
    '',
  ];
  if (goalsRows.length > 0) parts.push(markdownTable(['goal', 'measured', ''], goalsRows), '');
  for (const run of failed)
    parts.push(`- ${run.system} on ${run.workload} failed: ${run.error ?? 'unknown error'}`);
  for (const run of file.runs.filter((entry) => entry.notes.length > 0))
    parts.push(`- ${run.system} / ${run.workload}: ${run.notes.join('; ')}`);
  return `${parts
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** One latency chart per workload that has end-to-end figures, then the publish rates. */
export function chartSvg(file: ResultFile): string {
  const ok = file.runs.filter((run) => run.ok);
  const workloads = [...new Set(ok.map((run) => run.workload))];
  const systems = [...new Set(ok.map((run) => run.system))];
  // One colour per system across every chart.
  const color = (system: string): string =>
    svgDefaults.palette[systems.indexOf(system) % svgDefaults.palette.length] ?? '#000';
  const latencyCharts: BarChart[] = workloads
    .map((workload) => ok.filter((run) => run.workload === workload && run.endToEndLatencyUs.count > 0))
    .filter((runs) => runs.length > 0)
    .map((runs) => ({
      title: `End-to-end latency, ${runs[0]?.workload} (${file.suite}${file.quick ? ', quick' : ''})`,
      unit: 'µs (log scale)',
      categories: ['p50', 'p90', 'p99', 'p99.9', 'max'],
      series: runs.map((run) => {
        const p = run.endToEndLatencyUs;
        return { name: run.system, values: [p.p50, p.p90, p.p99, p.p999, p.max], color: color(run.system) };
      }),
      logScale: true,
    }));
  const throughput: BarChart = {
    title: 'Publish rate per system',
    unit: 'msg/s',
    categories: workloads,
    series: systems.map((system) => ({
      name: system,
      color: color(system),
      values: workloads.map(
        (workload) => find(ok, system, workload)?.publish.messagesPerSecond ?? Number.NaN,
      ),
    })),
  };
  return renderSvg([...latencyCharts, throughput]);
}
