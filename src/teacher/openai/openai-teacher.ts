/**
 * A teacher served over the OpenAI-compatible HTTP API: a {@link TextGenerator} whose
 * batch becomes one request per prompt, spread over a pool of servers
 * (least outstanding requests, AIMD concurrency per server, retries with jittered
 * backoff, ejection of failing servers). The pipeline drives it exactly as it drives the
 * in-process engine: its batching, bisection, dead letters and backpressure apply.
 *
 * - `raw` prompts go to `/completions` as `prompt`; `chat` prompts to `/chat/completions`
 *   as the single user message, which the server wraps in the model's chat template
 *   (the in-process engine wraps the same text in the same template itself).
 * - Results of the requests of a failed batch that did succeed are kept for its retry
 *   (the pipeline calls again with the same prompts), so a retry resends only what failed.
 *
 * @example
 * const teacher = new OpenAiTeacher({ model: 'smollm2', style: 'raw', server: { ...defaults, baseUrls: ['http://127.0.0.1:8000/v1'] } });
 * await teacher.generate([{ prompt: 'Q: ... Let\'s think step by step.', options: { maxNewTokens: 64, temperature: 0 } }]);
 */
import { TeacherlmError } from '../../errors.js';
import { rejectOption } from '../../options.js';
import { validateRequests } from '../generation-options.js';
import type { GenerationRequest, GenerationResult, PromptStyle, TextGenerator } from '../types.js';
import { parseCompletionReply, type CompletionReply } from './completion-reply.js';
import { createHttpTransport, type Transport } from './http-transport.js';
import { normalizeBaseUrl, requestFor, samplingFields, unsupportedGeneration, validateServerSpec, type OpenAiServerSpec } from './openai-options.js';
import { RequestDispatcher } from './request-dispatcher.js';
import { ServerPool } from './server-pool.js';

export interface OpenAiTeacherOptions {
  /** The served model's name, sent as `model`. */
  model: string;
  style: PromptStyle;
  server: OpenAiServerSpec;
  /** Batches the pipeline may have in flight (its worker slots). Default: enough to fill every server's ceiling with batches of 16. */
  batchesInFlight?: number;
  /** Token count of a prompt; default an estimate of 4 characters per token. */
  countTokens?: (prompt: string) => number;
  /** Model id written into records. Default `model`. */
  modelId?: string;
  /** Default: HTTP(S) with keep-alive. */
  transport?: Transport;
  env?: NodeJS.ProcessEnv;
  random?: () => number;
  /** Pool events (ejections, probes), as JSON-able objects. */
  onEvent?: (event: Record<string, unknown>) => void;
}

/** Successful results of failed batches, kept for their retry; bounded, oldest dropped first. */
const KEPT_RESULTS = 4096;

export class OpenAiTeacher implements TextGenerator {
  readonly modelId: string;
  readonly concurrency: number;
  readonly device = 'remote';
  readonly pool: ServerPool;
  private readonly dispatcher: RequestDispatcher;
  private readonly closeTransport: () => void;
  private readonly kept = new Map<string, CompletionReply>();
  private readonly count: (prompt: string) => number;
  private closed = false;

  constructor(private readonly options: OpenAiTeacherOptions) {
    if (typeof options.model !== 'string' || options.model.trim() === '') rejectOption('model', 'a non-empty string', options.model);
    if (options.style !== 'raw' && options.style !== 'chat') rejectOption('promptStyle', "'raw' or 'chat'", options.style);
    validateServerSpec(options.server);
    const { server } = options;
    const headers: Record<string, string> = {};
    if (server.apiKeyEnv !== undefined) {
      const key = (options.env ?? process.env)[server.apiKeyEnv];
      if (!key) {
        throw new TeacherlmError('INVALID_OPTIONS', `apiKeyEnv: the environment variable ${server.apiKeyEnv} is not set`, {
          hint: `export ${server.apiKeyEnv}=<the server's API key>, or remove apiKeyEnv for a server without one`,
        });
      }
      headers.authorization = `Bearer ${key}`;
    }
    const batches = options.batchesInFlight ?? Math.max(2, Math.ceil((server.baseUrls.length * server.concurrency.max) / 16));
    if (!Number.isInteger(batches) || batches < 1) rejectOption('batchesInFlight', 'a positive integer', batches);
    this.concurrency = batches;
    this.modelId = options.modelId ?? options.model;
    this.count = options.countTokens ?? ((prompt) => Math.ceil(prompt.length / 4));
    this.pool = new ServerPool(server.baseUrls.map(normalizeBaseUrl), server.concurrency, server.ejection, options.onEvent);
    let transport = options.transport;
    if (transport) this.closeTransport = () => {};
    else {
      const http = createHttpTransport();
      transport = http.post;
      this.closeTransport = http.close;
    }
    this.dispatcher = new RequestDispatcher({ pool: this.pool, transport, headers, timeouts: server.timeouts, retry: server.requestRetry, random: options.random });
  }

  countTokens(prompt: string): number {
    return this.count(prompt);
  }

  async generate(requests: GenerationRequest[]): Promise<GenerationResult[]> {
    if (this.closed) throw new TeacherlmError('SHUT_DOWN', 'the OpenAI teacher is closed');
    validateRequests(requests);
    requests.forEach((r, i) => {
      const refused = unsupportedGeneration(this.options.server.dialect, r.options);
      if (refused) rejectOption(`requests[${i}].options.${refused.field}`, 'an option the server honours', r.options[refused.field as keyof typeof r.options]);
    });
    const started = Date.now();
    const settled = await Promise.allSettled(
      requests.map(async ({ prompt, options }) => {
        const { path, body } = requestFor(this.options.style, this.options.model, prompt, samplingFields(this.options.server.dialect, options));
        const key = JSON.stringify([path, body]);
        const kept = this.kept.get(key);
        if (kept) {
          this.kept.delete(key);
          return { key, reply: kept, queuedMs: 0, serverMs: 0 };
        }
        const stops = (options.stop?.length ?? 0) > 0;
        const delivered = await this.dispatcher.submit(path, body, (json, url) => parseCompletionReply(json, this.options.style, url, stops));
        return { key, reply: delivered.value, queuedMs: delivered.queuedMs, serverMs: delivered.serverMs };
      }),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const s of settled) if (s.status === 'fulfilled') this.keep(s.value.key, s.value.reply);
      // A refusal outranks an outage: it is not retriable, so the pipeline bisects at once.
      const refused = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !(s.reason as TeacherlmError).retriable);
      throw (refused ?? failed).reason;
    }
    const totalMs = Date.now() - started;
    return settled.map((s) => {
      const { reply, queuedMs, serverMs } = (s as PromiseFulfilledResult<{ reply: CompletionReply; queuedMs: number; serverMs: number }>).value;
      return { ...reply, timings: { queuedMs, prefillMs: 0, decodeMs: serverMs, totalMs } };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dispatcher.close();
    this.closeTransport();
  }

  private keep(key: string, reply: CompletionReply): void {
    this.kept.set(key, reply);
    if (this.kept.size > KEPT_RESULTS) this.kept.delete(this.kept.keys().next().value as string);
  }
}
