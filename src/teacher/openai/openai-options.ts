/**
 * Options of a teacher served over the OpenAI-compatible HTTP API (vLLM, TGI, SGLang,
 * llama.cpp's server), and how the engine's generation options map onto the API's fields.
 * Options a server cannot honour are refused when the teacher is configured, never
 * silently dropped on each request.
 */
import { rejectOption } from '../../options.js';
import type { GenerationOptions, PromptStyle } from '../types.js';

/**
 * Which API extensions the server accepts. `openai`: the documented fields only (no
 * `top_k`, at most 4 stop strings); `vllm` and `llama.cpp` also take `top_k`, and
 * llama.cpp gets its repeat penalty and min-p switched off to sample as our engine does.
 */
export const OPENAI_DIALECTS = ['openai', 'vllm', 'llama.cpp'] as const;
export type OpenAiDialect = (typeof OPENAI_DIALECTS)[number];

export interface ConcurrencySpec {
  /** Requests in flight per server at start. */
  initial: number;
  /** Floor of the multiplicative decrease. */
  min: number;
  /** Ceiling of the additive increase. */
  max: number;
}

export interface TimeoutSpec {
  /** TCP connect, per attempt. */
  connectMs: number;
  /** Whole request (connect to last byte), per attempt. */
  requestMs: number;
}

export interface RequestRetrySpec {
  /** Attempts of one request (over any server) before its batch fails. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

export interface EjectionSpec {
  /** Consecutive failures (connection errors, timeouts, 5xx) that eject a server. */
  afterFailures: number;
  /** First ejection; each further one doubles it, up to maxMs. */
  forMs: number;
  maxMs: number;
}

/** The server-pool half of an `openai` teacher (the topology's fields beside `model`). */
export interface OpenAiServerSpec {
  /** Base URLs including the API prefix, e.g. `http://gpu-1:8000/v1`. */
  baseUrls: string[];
  /** Name of the environment variable holding the API key (never the key itself). */
  apiKeyEnv?: string;
  dialect: OpenAiDialect;
  timeouts: TimeoutSpec;
  concurrency: ConcurrencySpec;
  requestRetry: RequestRetrySpec;
  ejection: EjectionSpec;
}

export const DEFAULT_TIMEOUTS: TimeoutSpec = { connectMs: 5_000, requestMs: 120_000 };
export const DEFAULT_CONCURRENCY: ConcurrencySpec = { initial: 4, min: 1, max: 64 };
export const DEFAULT_REQUEST_RETRY: RequestRetrySpec = { maxAttempts: 5, initialBackoffMs: 200, maxBackoffMs: 10_000, multiplier: 2 };
export const DEFAULT_EJECTION: EjectionSpec = { afterFailures: 5, forMs: 10_000, maxMs: 300_000 };

/** The OpenAI API takes at most this many stop strings. */
const OPENAI_MAX_STOP = 4;

/**
 * The first generation option the dialect cannot honour, as `{ field, reason }` with the
 * field relative to the generation options, or undefined when all are honoured.
 */
export function unsupportedGeneration(dialect: OpenAiDialect, options: GenerationOptions): { field: string; reason: string } | undefined {
  if ((options.badWords?.length ?? 0) > 0) {
    return { field: 'badWords', reason: 'OpenAI-compatible servers take no banned token sequences; use the in-process engine for them' };
  }
  if ((options.noRepeatNgramSize ?? 0) > 0) {
    return { field: 'noRepeatNgramSize', reason: 'OpenAI-compatible servers have no no_repeat_ngram_size; use the in-process engine for it' };
  }
  if ((options.minNewTokens ?? 0) > 0 && dialect !== 'vllm') {
    return { field: 'minNewTokens', reason: 'only vLLM takes min_tokens; remove minNewTokens or set dialect: vllm' };
  }
  if (options.repetitionPenalty !== undefined && options.repetitionPenalty !== 1 && dialect === 'openai') {
    return { field: 'repetitionPenalty', reason: "the OpenAI API has no repetition_penalty (its frequency_penalty differs); set dialect: vllm or llama.cpp if the server accepts it" };
  }
  if (dialect === 'openai') {
    if (options.topK !== undefined) {
      return { field: 'topK', reason: "the OpenAI API has no top_k; remove topK or set dialect: vllm or llama.cpp if the server accepts it" };
    }
    if (options.stop !== undefined && options.stop.length > OPENAI_MAX_STOP) {
      return { field: 'stop', reason: `the OpenAI API takes at most ${OPENAI_MAX_STOP} stop strings, got ${options.stop.length}` };
    }
  }
  return undefined;
}

/** The request body's sampling fields for the engine's options. */
export function samplingFields(dialect: OpenAiDialect, options: GenerationOptions): Record<string, unknown> {
  const fields: Record<string, unknown> = { max_tokens: options.maxNewTokens, temperature: options.temperature };
  // Our engine samples from the whole distribution unless topP/topK say otherwise; servers
  // default to narrower ones (llama.cpp: top_p 0.95, top_k 40, min_p 0.05, repeat penalty 1.1).
  fields.top_p = options.topP ?? 1;
  if (options.seed !== undefined) fields.seed = options.seed;
  if (options.stop !== undefined && options.stop.length > 0) fields.stop = options.stop;
  if (dialect === 'vllm' && options.topK !== undefined) fields.top_k = options.topK;
  if (dialect === 'vllm' && options.repetitionPenalty !== undefined) fields.repetition_penalty = options.repetitionPenalty;
  if (dialect === 'vllm' && (options.minNewTokens ?? 0) > 0) fields.min_tokens = options.minNewTokens;
  if (dialect === 'llama.cpp') {
    fields.top_k = options.topK ?? 0; // 0: no top-k
    fields.min_p = 0;
    // llama.cpp's own default is 1.1, and it penalizes only the last repeat_last_n (64) tokens, not the prompt.
    fields.repeat_penalty = options.repetitionPenalty ?? 1;
  }
  return fields;
}

/** The endpoint and body of one generation request. */
export function requestFor(style: PromptStyle, model: string, prompt: string, sampling: Record<string, unknown>): { path: string; body: Record<string, unknown> } {
  return style === 'chat'
    ? { path: '/chat/completions', body: { model, messages: [{ role: 'user', content: prompt }], ...sampling } }
    : { path: '/completions', body: { model, prompt, ...sampling } };
}

/** Checks a server spec built in code (the topology loader checks its own with file-level messages). */
export function validateServerSpec(spec: OpenAiServerSpec): void {
  if (!Array.isArray(spec.baseUrls) || spec.baseUrls.length === 0) rejectOption('baseUrls', 'a non-empty list of http(s) URLs', spec.baseUrls);
  spec.baseUrls.forEach((url, i) => {
    if (!isHttpUrl(url)) rejectOption(`baseUrls[${i}]`, 'an http(s) URL', url);
  });
  if (new Set(spec.baseUrls.map(normalizeBaseUrl)).size !== spec.baseUrls.length) rejectOption('baseUrls', 'distinct URLs', spec.baseUrls);
  if (spec.apiKeyEnv !== undefined && !ENV_NAME.test(spec.apiKeyEnv)) rejectOption('apiKeyEnv', 'an environment variable name', spec.apiKeyEnv);
  if (!OPENAI_DIALECTS.includes(spec.dialect)) rejectOption('dialect', `one of ${OPENAI_DIALECTS.join(', ')}`, spec.dialect);
  const positiveInt = (v: number, field: string) => {
    if (!Number.isInteger(v) || v < 1) rejectOption(field, 'a positive integer', v);
  };
  const nonNegative = (v: number, field: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) rejectOption(field, 'a non-negative number', v);
  };
  positiveInt(spec.timeouts.connectMs, 'timeouts.connectMs');
  positiveInt(spec.timeouts.requestMs, 'timeouts.requestMs');
  positiveInt(spec.concurrency.min, 'concurrency.min');
  positiveInt(spec.concurrency.initial, 'concurrency.initial');
  positiveInt(spec.concurrency.max, 'concurrency.max');
  if (spec.concurrency.min > spec.concurrency.initial || spec.concurrency.initial > spec.concurrency.max) {
    rejectOption('concurrency', 'min <= initial <= max', spec.concurrency);
  }
  positiveInt(spec.requestRetry.maxAttempts, 'requestRetry.maxAttempts');
  nonNegative(spec.requestRetry.initialBackoffMs, 'requestRetry.initialBackoffMs');
  nonNegative(spec.requestRetry.maxBackoffMs, 'requestRetry.maxBackoffMs');
  if (!(spec.requestRetry.multiplier >= 1)) rejectOption('requestRetry.multiplier', 'a number >= 1', spec.requestRetry.multiplier);
  positiveInt(spec.ejection.afterFailures, 'ejection.afterFailures');
  positiveInt(spec.ejection.forMs, 'ejection.forMs');
  positiveInt(spec.ejection.maxMs, 'ejection.maxMs');
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}

/** `http://h:8000/v1/` and `http://h:8000/v1` are one server. */
export function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}
