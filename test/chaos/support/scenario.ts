/**
 * One scenario in one delivery mode: its own topics and group, the input streamed while
 * the scenario's faults run, then the workers left alive drain the stream, are stopped by
 * SIGTERM, and every id is counted read_committed (count.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { ensureTopics } from '../../../src/kafka/admin.js';
import { createKafka } from '../../../src/kafka/client.js';
import type { DeliveryMode } from '../../../src/pipeline/topology.js';
import { brokerLogDuring, type ChaosBroker } from './broker.js';
import { checkInput, countIds, partitionsWrittenSince, readOutputs, recoverySeconds, type Counts } from './count.js';
import { streamSamples, Timeline } from './stream.js';
import { writeTopology, type ChaosTeacher, type ChaosTopology } from './topology.js';
import { WorkerSet } from './workers.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** How big a run is: the full suite's or the reduced form `npm test` runs. */
export interface ChaosSize {
  samples: number;
  /** How long the input takes to arrive. */
  streamMs: number;
  /** Faults per scenario (kills, engine crashes). */
  faults: number;
  /** Broker outage. */
  brokerDownMs: number;
  /** Undefined: the topology default. */
  sessionTimeoutMs?: number;
  /** Longest wait, after the faults, for every id to arrive. */
  drainMs: number;
}

/** Shared by the scenarios of one suite run (both modes run at once, on one broker). */
export interface ChaosContext {
  broker: ChaosBroker;
  size: ChaosSize;
  /** One promise per key, whoever asks first starts it (a broker outage both modes share). */
  shared<T>(key: string, start: () => Promise<T>): Promise<T>;
  /** Keep each run's folder (topology, worker logs) even when it passed. */
  keepLogs?: boolean;
}

export interface LiveRun {
  ctx: ChaosContext;
  mode: DeliveryMode;
  topology: ChaosTopology;
  workers: WorkerSet;
  dir: string;
  startedAt: number;
  /** Resolves when the whole input is in the input topic. */
  streamed: Promise<void>;
  /** Records a fault that ended now (or at `at`): recovery is measured from it. */
  fault(at?: number): void;
  /** Sleeps until `fraction` of the stream's duration has passed since it began. */
  untilStream(fraction: number): Promise<void>;
  /** Resolves once the output topics grew after the call (a worker wrote), or after `timeoutMs`, or when no worker is left. */
  writes(timeoutMs: number): Promise<boolean>;
  /**
   * Resolves once every input partition has committed output timestamped after `since`
   * (the fault has been recovered from, as count.ts measures it), or every id is out, or
   * after `timeoutMs`, or when no worker is left.
   */
  recovered(since: number, timeoutMs: number): Promise<boolean>;
}

export interface Scenario {
  name: string;
  teacher: ChaosTeacher;
  partitions: number;
  outputPartitions: number;
  questionChars: number;
  /** Every sample must end augmented (none dead-lettered). */
  allAugmented: boolean;
  /** The input arrives before the first worker starts (a backlog) instead of over streamMs. */
  backlog?: boolean;
  /** Starts the workers and injects the faults; leaves the workers that should drain the stream alive. */
  faults(run: LiveRun): Promise<void>;
  /** Checks beyond the counts (e.g. that the fault happened); returns problems. */
  verify?(run: LiveRun): string[];
}

export interface ChaosRow extends Counts {
  scenario: string;
  mode: DeliveryMode;
  faults: number;
  /** Worst time to recover over the faults (count.ts `recoverySeconds`). */
  recoverS: number | undefined;
  seconds: number;
  problems: string[];
  /** Not failures: waits that took long, with the workers' own events, so a slow CI run shows why. */
  notes: string[];
}

/** A row fails on a missing id, an exactly-once duplicate, or a problem (unexpected exit, a check). */
export function rowFailed(r: ChaosRow): boolean {
  return r.missing !== 0 || (r.mode === 'exactly-once' && r.duplicates !== 0) || r.problems.length > 0;
}

/** The output topics' summed log ends; undefined while the broker does not answer (a scenario may have killed it). */
async function outputSize(admin: Admin, t: ChaosTopology): Promise<number | undefined> {
  try {
    let sum = 0;
    for (const topic of [t.output, t.deadLetter]) for (const p of await admin.fetchTopicOffsets(topic)) sum += Number(p.high);
    return sum;
  } catch {
    return undefined;
  }
}

/** A recovery wait longer than this is noted in the row (a normal one takes under 15 s). */
const SLOW_WAIT_MS = 30_000;

/** How long a wait took, how far it got, and each live worker's events (progress lines left out), in seconds since the run began. */
function slowWaitNote(waitedMs: number, written: number, partitions: number, workers: WorkerSet, startedAt: number, input: Timeline): string {
  const lines = workers.alive.map((w) => {
    const events = w
      .log()
      .split('\n')
      .flatMap((line) => {
        try {
          const e = JSON.parse(line) as { ts?: string; event?: string };
          if (!e.ts || e.event === 'progress') return [];
          const { ts, ...rest } = e;
          return [`+${((Date.parse(ts) - startedAt) / 1000).toFixed(1)}s ${JSON.stringify(rest).slice(0, 200)}`];
        } catch {
          return line.trim() && !line.startsWith('teacherlm:') ? [line.slice(0, 200)] : [];
        }
      });
    return `${w.logFile.split('/').pop()}: ${events.slice(-12).join(' | ')}`;
  });
  return `waited ${(waitedMs / 1000).toFixed(1)} s for ${partitions} partitions to write (${written} did); input stream: ${input.events.join(' | ')}; ${lines.join('; ')}`;
}

function brokerLogNote(file: string | undefined, since: number): string {
  if (!file) return 'no log';
  try {
    return `${brokerLogDuring(readFileSync(file, 'utf8'), since, Date.now())} (${file})`;
  } catch (err) {
    return `log unreadable: ${(err as Error).message}`;
  }
}

export async function runScenario(ctx: ChaosContext, s: Scenario, mode: DeliveryMode): Promise<ChaosRow> {
  const began = Date.now();
  const name = `chaos-${s.name}-${mode === 'exactly-once' ? 'eos' : 'alos'}-${began.toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const topology = writeTopology(dir, name, { mode, teacher: s.teacher, partitions: s.partitions, outputPartitions: s.outputPartitions, sessionTimeoutMs: ctx.size.sessionTimeoutMs });
  const brokers = [ctx.broker.bootstrap];
  const kafka = createKafka({ brokers, clientId: 'chaos-suite', logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(kafka, [
    { topic: topology.input, partitions: s.partitions },
    { topic: topology.output, partitions: s.outputPartitions },
    { topic: topology.deadLetter, partitions: 1 },
  ]);
  const env = { ...process.env, KAFKA_BROKERS: ctx.broker.bootstrap, OTEL_SDK_DISABLED: 'true', TEACHERLM_KAFKA_LOG: 'error' };
  const workers = new WorkerSet(dir, topology.file, env);
  const faults: number[] = [];
  const notes: string[] = [];
  const startedAt = Date.now();
  const input = new Timeline(startedAt);
  const stream = streamSamples({ timeline: input, brokers, topic: topology.input, partitions: s.partitions, samples: ctx.size.samples, durationMs: s.backlog ? 0 : ctx.size.streamMs, questionChars: s.questionChars });
  // Awaited after the faults; meanwhile a failure ends the waits below at once instead of unhandled.
  let streamFailed = false;
  stream.catch(() => void (streamFailed = true));
  const run: LiveRun = {
    ctx,
    mode,
    topology,
    workers,
    dir,
    startedAt,
    streamed: stream,
    fault: (at = Date.now()) => void faults.push(at),
    untilStream: (fraction) => sleep(startedAt + fraction * ctx.size.streamMs - Date.now()),
    async writes(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let base: number | undefined;
      while (!streamFailed && Date.now() < deadline && workers.alive.length > 0) {
        const now = await outputSize(admin, topology);
        if (now !== undefined && base !== undefined && now > base) return true;
        base ??= now;
        await sleep(200);
      }
      return false;
    },
    async recovered(since, timeoutMs) {
      const began = Date.now();
      const deadline = began + timeoutMs;
      let written = 0;
      let done = false;
      let slowestRead = 0;
      while (!done && !streamFailed && Date.now() < deadline && workers.alive.length > 0) {
        const readAt = Date.now();
        const records = await readOutputs(ctx.broker.bootstrap, topology.output, topology.deadLetter);
        slowestRead = Math.max(slowestRead, Date.now() - readAt);
        written = partitionsWrittenSince(records, since, s.partitions);
        done = written === s.partitions || new Set(records.map((r) => r.id)).size >= ctx.size.samples;
        if (!done) await sleep(500);
      }
      if (Date.now() - began > SLOW_WAIT_MS) notes.push(`${slowWaitNote(Date.now() - began, written, s.partitions, workers, startedAt, input)}; slowest read-back ${(slowestRead / 1000).toFixed(1)} s; broker: ${brokerLogNote(ctx.broker.logFile, startedAt)}`);
      return done;
    },
  };
  const problems: string[] = [];
  try {
    await s.faults(run);
    await stream;
    const deadline = Date.now() + ctx.size.drainMs;
    while (Date.now() < deadline && workers.alive.length > 0) {
      if (new Set((await readOutputs(ctx.broker.bootstrap, topology.output, topology.deadLetter)).map((r) => r.id)).size >= ctx.size.samples) break;
      await sleep(1_000);
    }
    if (workers.alive.length === 0) problems.push('no worker left alive to drain the stream');
    await Promise.all(workers.alive.map((w) => w.running()));
    await workers.stopAll('SIGTERM');
  } finally {
    await workers.stopAll('SIGKILL');
    await admin.disconnect();
  }
  for (const [i, w] of workers.all.entries()) {
    if (w.unexpectedExit) problems.push(`worker-${i} exited by itself (code ${w.unexpectedExit.code}, signal ${w.unexpectedExit.signal}): ${w.logFile}`);
    else if (w.signalled === 'SIGTERM' && w.exit?.code !== 0) problems.push(`worker-${i} exited ${w.exit?.code ?? w.exit?.signal} after SIGTERM: ${w.logFile}`);
  }
  await checkInput(ctx.broker.bootstrap, topology.input, ctx.size.samples);
  const records = await readOutputs(ctx.broker.bootstrap, topology.output, topology.deadLetter);
  const counts = countIds(records, ctx.size.samples);
  if (s.allAugmented && counts.deadLettered > 0) problems.push(`${counts.deadLettered} samples dead-lettered, every one should be augmented`);
  problems.push(...(s.verify?.(run) ?? []));
  const recoveries = faults.map((at) => recoverySeconds(records, at, s.partitions)).filter((x) => x !== undefined);
  const row: ChaosRow = {
    scenario: s.name,
    mode,
    ...counts,
    faults: faults.length,
    recoverS: recoveries.length ? Math.max(...recoveries) : undefined,
    seconds: Math.round((Date.now() - began) / 1000),
    problems,
    notes,
  };
  if (rowFailed(row)) problems.push(`logs kept in ${dir}`);
  else if (notes.length) notes.push(`logs kept in ${dir}`);
  else if (!ctx.keepLogs) rmSync(dir, { recursive: true, force: true });
  return row;
}
