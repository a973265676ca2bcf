/**
 * What `teacherlm run` shows while it works: on a TTY, one live line (rate, lag, queue)
 * rewritten in place; otherwise one structured JSON line per event and per interval.
 */
import type { PipelineStats } from '../pipeline/pipeline.js';

export interface StatusSample {
  stats: PipelineStats;
  at: number;
}

/** Samples/s finished between two snapshots. */
export function ratePerSecond(previous: StatusSample, current: StatusSample): number {
  const done = (s: PipelineStats) => s.augmented + s.deadLettered;
  const seconds = (current.at - previous.at) / 1000;
  return seconds > 0 ? (done(current.stats) - done(previous.stats)) / seconds : 0;
}

/** `augmented 120 · dead 3 · 4.2/s · lag 880 · queue 12/256 (paused 1)` */
export function formatStatusLine(stats: PipelineStats, rate: number, queueLimit: number): string {
  const lag = stats.lag === undefined ? '?' : String(stats.lag);
  const paused = stats.pausedPartitions > 0 ? ` (paused ${stats.pausedPartitions})` : '';
  return `augmented ${stats.augmented} · dead ${stats.deadLettered} · ${rate.toFixed(1)}/s · lag ${lag} · queue ${stats.inFlight}/${queueLimit}${paused}`;
}

export interface StatusReporter {
  event(fields: Record<string, unknown>): void;
  stop(): void;
}

/**
 * Starts reporting `stats()` every `intervalMs` to `out` (a TTY gets the live line).
 * `stats()` is undefined while the pipeline is still starting (its consumer may wait out a
 * broker outage for longer than an interval): such ticks report nothing.
 */
export function startStatus(options: {
  stats: () => PipelineStats | undefined;
  queueLimit: number;
  out: NodeJS.WriteStream;
  intervalMs?: number;
  now?: () => number;
}): StatusReporter {
  const { out, queueLimit } = options;
  const now = options.now ?? Date.now;
  const tty = out.isTTY === true;
  let previous: StatusSample | undefined;
  let lineShown = false;
  const tick = () => {
    const stats = options.stats();
    if (stats === undefined) return;
    const current = { stats, at: now() };
    const rate = previous ? ratePerSecond(previous, current) : 0;
    previous = current;
    if (tty) {
      out.write(`\r\x1b[2K${formatStatusLine(current.stats, rate, queueLimit)}`);
      lineShown = true;
    } else {
      out.write(`${JSON.stringify({ ts: new Date(current.at).toISOString(), event: 'progress', ratePerSec: Number(rate.toFixed(2)), ...current.stats })}\n`);
    }
  };
  const timer = setInterval(tick, options.intervalMs ?? (tty ? 1_000 : 5_000));
  timer.unref();
  return {
    event(fields) {
      if (tty) {
        if (lineShown) out.write('\r\x1b[2K');
        const { event, ...rest } = fields;
        out.write(`teacherlm: ${String(event)} ${Object.keys(rest).length ? JSON.stringify(rest) : ''}\n`);
      } else {
        out.write(`${JSON.stringify({ ts: new Date(now()).toISOString(), ...fields })}\n`);
      }
    },
    stop() {
      clearInterval(timer);
      if (tty && lineShown) out.write('\n');
      lineShown = false;
    },
  };
}
