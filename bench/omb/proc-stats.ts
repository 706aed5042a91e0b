/**
 * Server resource usage from /proc: every second, the resident set size (VmRSS in
 * /proc/<pid>/status) and the CPU time (utime + stime, fields 14 and 15 of /proc/<pid>/stat, in
 * clock ticks) of each server process, summed. CPU percent is CPU time over wall time across the
 * sampled window, so 100 means one core fully busy.
 */
import { readFileSync } from 'node:fs';
import type { ServerUsage } from './schema.ts';

const clockTicksPerSecond = 100; // USER_HZ on Linux x86-64 and arm64
const sampleIntervalMs = 1_000; // ms between samples

interface Sample {
  readonly rssBytes: number;
  readonly cpuSeconds: number;
  readonly atNs: bigint;
}

/** VmRSS in bytes, or undefined when the process is gone. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** utime + stime in seconds, or undefined when the process is gone. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

function sample(pids: readonly number[]): Sample {
  let rssBytes = 0;
  let cpuSeconds = 0;
  for (const pid of pids) {
    rssBytes += readRssBytes(pid) ?? 0;
    cpuSeconds += readCpuSeconds(pid) ?? 0;
  }
  return { rssBytes, cpuSeconds, atNs: process.hrtime.bigint() };
}

/** Samples `pids` every second from `start()` until `stop()`, which returns the summary. */
export class ProcessSampler {
  readonly #pids: readonly number[];
  readonly #samples: Sample[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(pids: readonly number[]) {
    this.#pids = pids;
  }

  start(): void {
    this.#samples.push(sample(this.#pids));
    this.#timer = setInterval(() => this.#samples.push(sample(this.#pids)), sampleIntervalMs);
    this.#timer.unref();
  }

  stop(): ServerUsage {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#samples.push(sample(this.#pids));
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (first === undefined || last === undefined)
      return { rssMaxBytes: 0, rssMeanBytes: 0, cpuPercent: 0, samples: 0 };
    const seconds = Number(last.atNs - first.atNs) / 1e9;
    const rss = this.#samples.map((entry) => entry.rssBytes);
    return {
      rssMaxBytes: Math.max(...rss),
      rssMeanBytes: Math.round(rss.reduce((sum, value) => sum + value, 0) / rss.length),
      cpuPercent: seconds > 0 ? Math.round(((last.cpuSeconds - first.cpuSeconds) / seconds) * 1000) / 10 : 0,
      samples: this.#samples.length,
    };
  }
}
