/**
 * What every benchmark suite records beside its figures: the machine it ran on, and a helper that
 * appends one dated section to bench/results/<suite>.md. Figures from different machines, or from
 * a busy one, are not comparable; the description makes that visible.
 */
import { appendFile, mkdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export interface MachineDescription {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly kernel: string;
  readonly platform: string;
  readonly arch: string;
  /** One-minute load average when the suite started: a busy machine gives lower figures. */
  readonly loadAverage1m: number;
}

export function describeMachine(): MachineDescription {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    platform: process.platform,
    arch: process.arch,
    loadAverage1m: os.loadavg()[0] ?? 0,
  };
}

/** One line, e.g. "Intel Xeon … × 2 cores, 23.5 GiB, Node v20.20.2, Linux 6.1.0 (linux/x64), load 0.12". */
export function formatMachine(machine: MachineDescription = describeMachine()): string {
  const gib = (machine.memoryBytes / 2 ** 30).toFixed(1);
  return (
    `${machine.cpuModel} × ${machine.cores} cores, ${gib} GiB, Node ${machine.node}, ` +
    `${machine.kernel} (${machine.platform}/${machine.arch}), load ${machine.loadAverage1m.toFixed(2)}`
  );
}

/** A Markdown table; cells are used as given. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A plain-text table with aligned columns, for the terminal. */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export interface ResultsSection {
  /** Suite name: the file is bench/results/<suite>.md. */
  readonly suite: string;
  /** Heading after the date, e.g. "micro (quick)". */
  readonly title: string;
  /** Markdown body: tables and notes. */
  readonly body: string;
  readonly machine?: MachineDescription;
  readonly date?: Date;
}

/** Appends a dated section with the machine description; returns the file's path. */
export async function appendResults(section: ResultsSection): Promise<string> {
  const directory = fileURLToPath(new URL('./results/', import.meta.url));
  const path = `${directory}${section.suite}.md`;
  await mkdir(directory, { recursive: true });
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (!exists) await writeFile(path, `# ${section.suite} benchmark results\n`);
  const date = (section.date ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
  const text = [
    '',
    `## ${date} — ${section.title}`,
    '',
    `Machine: ${formatMachine(section.machine)}`,
    '',
    section.body.trimEnd(),
    '',
  ].join('\n');
  await appendFile(path, text);
  return path;
}
