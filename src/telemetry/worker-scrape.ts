/**
 * A worker's own figures, read from its `/metrics` (`teacherlm run --metrics-port`): what
 * `teacherlm status` adds to the group's view when given `--metrics URL`.
 */
import { TeacherlmError } from '../errors.js';
import { parsePrometheusText, promSum } from './prometheus-text.js';

export interface WorkerFigures {
  url: string;
  written: number;
  deadLettered: number;
  inFlight: number;
  queueDepth: number;
  /** Mean busy share over the worker's engines, in [0, 1]; undefined without engines. */
  busy: number | undefined;
  promptTokens: number;
  generatedTokens: number;
  at: number;
}

export async function scrapeWorker(url: string, options: { timeoutMs?: number; now?: () => number } = {}): Promise<WorkerFigures> {
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 3_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch (err) {
    throw new TeacherlmError('IO_FAILED', `--metrics: could not read ${url}: ${(err as Error).message}`, {
      cause: err,
      hint: 'give the URL of a worker started with teacherlm run --metrics-port N, e.g. http://127.0.0.1:N/metrics',
    });
  }
  const samples = parsePrometheusText(text);
  const busy = samples.filter((s) => s.name === 'teacherlm_engine_utilization');
  return {
    url,
    written: promSum(samples, 'teacherlm_records_written_total'),
    deadLettered: promSum(samples, 'teacherlm_records_written_total', { teacherlm_outcome: 'dead-letter' }),
    inFlight: promSum(samples, 'teacherlm_records_in_flight'),
    queueDepth: promSum(samples, 'teacherlm_engine_queue_depth'),
    busy: busy.length > 0 ? busy.reduce((n, s) => n + s.value, 0) / busy.length : undefined,
    promptTokens: promSum(samples, 'teacherlm_engine_tokens_total', { gen_ai_token_type: 'input' }),
    generatedTokens: promSum(samples, 'teacherlm_engine_tokens_total', { gen_ai_token_type: 'output' }),
    at: (options.now ?? Date.now)(),
  };
}
