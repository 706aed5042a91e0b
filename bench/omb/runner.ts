/**
 * Runs one workload on one system and turns what the session measured into a RunResult: a
 * fixed-rate run (warm-up, then a measured window), a max-rate run (search, then a measured window
 * at the settled rate) or a backlog run (publish with no consumer, then time the drain).
 */
import { type Driver, openDriver, type SystemName } from '../drivers/driver.ts';
import { LatencyHistogram } from './histogram.ts';
import { ProcessSampler } from './proc-stats.ts';
import { searchMaxRate } from './rate-search.ts';
import type { Ceilings, RunResult, ServerUsage } from './schema.ts';
import { LoadSession, type PhaseResult } from './session.ts';
import type { BacklogWorkload, FixedRateWorkload, MaxRateWorkload } from './workload.ts';

export type RunnableWorkload = FixedRateWorkload | MaxRateWorkload | BacklogWorkload;

export interface RunContext {
  readonly ceilings: Ceilings;
  /** Overrides the measured window's length (`--duration`). */
  readonly durationSeconds?: number;
  readonly log: (line: string) => void;
}

interface Measured {
  readonly targetRate: number;
  readonly phase: PhaseResult;
  readonly usage: ServerUsage;
  readonly session: LoadSession;
  readonly rateSearch?: RunResult['rateSearch'];
  readonly backlog?: RunResult['backlog'];
  readonly consumeOverride?: number;
  readonly notes: string[];
}

const emptyUsage: ServerUsage = { rssMaxBytes: 0, rssMeanBytes: 0, cpuPercent: 0, samples: 0 };

function toResult(
  driver: Driver,
  workload: RunnableWorkload,
  measured: Measured,
  context: RunContext,
): RunResult {
  const { phase, session } = measured;
  const publishRate = phase.acked / phase.seconds;
  const consumeRate = measured.consumeOverride ?? phase.received / phase.seconds;
  const publishBytes = publishRate * workload.messageBytes;
  const mb = (rate: number): number => Math.round((rate * workload.messageBytes) / 1e4) / 100;
  const fraction = (ceiling: number): number =>
    ceiling > 0 ? Math.round((publishBytes / ceiling) * 1e4) / 1e4 : 0;
  return {
    system: driver.system,
    workload: workload.name,
    version: driver.version,
    durability: driver.durability,
    settings: driver.settings,
    ok: phase.errors === 0,
    ...(phase.errors === 0
      ? {}
      : { error: `${phase.errors} publishes failed: ${String(session.lastError)}` }),
    targetRate: Math.round(measured.targetRate),
    measuredSeconds: Math.round(phase.seconds * 100) / 100,
    publish: { messagesPerSecond: Math.round(publishRate), megabytesPerSecond: mb(publishRate) },
    consume: { messagesPerSecond: Math.round(consumeRate), megabytesPerSecond: mb(consumeRate) },
    publishLatencyUs: session.publishLatency.percentiles(),
    endToEndLatencyUs: session.endToEndLatency.percentiles(),
    publishDelayUs: session.publishDelay.percentiles(),
    server: measured.usage,
    ofSequentialWrite: fraction(context.ceilings.sequentialWriteBytesPerSecond),
    ofLoopback: fraction(context.ceilings.loopbackBytesPerSecond),
    ...(measured.rateSearch === undefined ? {} : { rateSearch: measured.rateSearch }),
    ...(measured.backlog === undefined ? {} : { backlog: measured.backlog }),
    notes: [...driver.notes, ...measured.notes],
  };
}

/** Warm-up at `rate`, then the measured window with the server sampled; drains afterwards. */
async function measureAt(
  driver: Driver,
  session: LoadSession,
  rate: number,
  warmupS: number,
  durationS: number,
): Promise<{ phase: PhaseResult; usage: ServerUsage; notes: string[] }> {
  const notes: string[] = [];
  if (warmupS > 0) {
    await session.phase(rate, warmupS, false);
    if (!(await session.drain())) notes.push('warm-up did not drain within the timeout');
  }
  session.resetHistograms();
  const sampler = new ProcessSampler(driver.pids);
  sampler.start();
  const phase = await session.phase(rate, durationS, true);
  const usage = sampler.stop();
  if (!(await session.drain()))
    notes.push('measured window did not drain within the timeout: end-to-end tail may be understated');
  return { phase, usage, notes };
}

async function runFixedRate(
  driver: Driver,
  workload: FixedRateWorkload,
  context: RunContext,
): Promise<Measured> {
  const session = await LoadSession.open(driver, { ...workload, consume: true });
  try {
    const durationS = context.durationSeconds ?? workload.durationSeconds;
    const { phase, usage, notes } = await measureAt(
      driver,
      session,
      workload.messagesPerSecond,
      workload.warmupSeconds,
      durationS,
    );
    return { targetRate: workload.messagesPerSecond, phase, usage, session, notes };
  } finally {
    await session.close();
  }
}

async function runMaxRate(driver: Driver, workload: MaxRateWorkload, context: RunContext): Promise<Measured> {
  const session = await LoadSession.open(driver, { ...workload, consume: true });
  try {
    // Connections, metadata and JIT warm up at a modest rate first, so the first probe is fair.
    await session.phase(workload.search.startRate / 4, workload.search.probeSeconds, false);
    await session.drain();
    const search = await searchMaxRate(async (rate) => {
      const outcome = await session.phase(rate, workload.search.probeSeconds, false);
      await session.drain();
      context.log(
        `    probe ${rate} msg/s: publish backlog ${outcome.publishBacklog}, receive backlog ${outcome.receiveBacklog}`,
      );
      return outcome;
    }, workload.search);
    const rate = Math.max(search.rate, workload.search.startRate / 4);
    const durationS = context.durationSeconds ?? workload.durationSeconds;
    const { phase, usage, notes } = await measureAt(driver, session, rate, workload.warmupSeconds, durationS);
    if (search.rate === 0) notes.push('no probe kept up; measured at a quarter of the start rate');
    return { targetRate: rate, phase, usage, session, rateSearch: search.steps, notes };
  } finally {
    await session.close();
  }
}

async function runBacklog(driver: Driver, workload: BacklogWorkload, context: RunContext): Promise<Measured> {
  const session = await LoadSession.open(driver, { ...workload, consume: false });
  try {
    const messages = Math.ceil(workload.backlogBytes / workload.messageBytes);
    const sampler = new ProcessSampler(driver.pids);
    sampler.start();
    const written = await session.publishAll(messages);
    context.log(`    wrote ${messages} messages in ${written.seconds.toFixed(1)} s; draining`);
    const drainStarted = process.hrtime.bigint();
    await session.startConsumer();
    const drained = await session.waitUntil(() => session.totals.received >= messages, 1_800_000);
    const drainSeconds = Number(process.hrtime.bigint() - drainStarted) / 1e9;
    const usage = sampler.stop();
    const totals = session.totals;
    const phase: PhaseResult = {
      ratePerSecond: 0,
      seconds: written.seconds,
      scheduled: messages,
      sent: totals.sent,
      acked: totals.acked - totals.errors,
      received: totals.received,
      publishBacklog: 0,
      receiveBacklog: messages - totals.received,
      errors: totals.errors,
    };
    const notes = drained
      ? []
      : [`drain stopped after ${drainSeconds.toFixed(0)} s with ${messages - totals.received} messages left`];
    notes.push(
      'publish = writing the backlog as fast as the client allows; consume = the drain rate; publish delay does not apply',
    );
    return {
      targetRate: 0,
      phase,
      usage,
      session,
      backlog: {
        bytes: messages * workload.messageBytes,
        messages,
        drainSeconds: Math.round(drainSeconds * 100) / 100,
      },
      consumeOverride: totals.received / drainSeconds,
      notes,
    };
  } finally {
    await session.close();
  }
}

function failedResult(system: SystemName, workload: RunnableWorkload, error: unknown): RunResult {
  const empty = new LatencyHistogram().percentiles();
  const message = error instanceof Error ? error.message : String(error);
  return {
    system,
    workload: workload.name,
    version: 'unknown',
    durability: 'unknown',
    settings: {},
    ok: false,
    error: message.split('\n').slice(0, 5).join(' / '),
    targetRate: 0,
    measuredSeconds: 0,
    publish: { messagesPerSecond: 0, megabytesPerSecond: 0 },
    consume: { messagesPerSecond: 0, megabytesPerSecond: 0 },
    publishLatencyUs: empty,
    endToEndLatencyUs: empty,
    publishDelayUs: empty,
    server: emptyUsage,
    ofSequentialWrite: 0,
    ofLoopback: 0,
    notes: [],
  };
}

/** Starts the system, runs the workload, stops the system; a failure becomes a result with ok=false. */
export async function runOne(
  system: SystemName,
  workload: RunnableWorkload,
  context: RunContext,
): Promise<RunResult> {
  let driver: Driver | undefined;
  try {
    driver = await openDriver(system, { latency: workload.kind === 'fixed-rate' });
    const measured =
      workload.kind === 'fixed-rate'
        ? await runFixedRate(driver, workload, context)
        : workload.kind === 'max-rate'
          ? await runMaxRate(driver, workload, context)
          : await runBacklog(driver, workload, context);
    return toResult(driver, workload, measured, context);
  } catch (error) {
    return failedResult(system, workload, error);
  } finally {
    await driver
      ?.close()
      .catch((error: unknown) => context.log(`    closing ${system} failed: ${String(error)}`));
  }
}
