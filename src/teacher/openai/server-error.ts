/**
 * What went wrong with one request to an inference server, and what the pool does about it:
 * - `overload` (429, 503, timeout): the server is busy; its concurrency is cut and the
 *   request retried, after `Retry-After` when the server gave one;
 * - `failure` (connection refused or reset, other 5xx): the server may be down; enough of
 *   them in a row eject it, and the request is retried elsewhere;
 * - `rejected` (other 4xx, a malformed reply): retrying will not help; the batch fails
 *   with a non-retriable error so the pipeline bisects it down to the bad sample.
 */
import { TeacherlmError } from '../../errors.js';

export type ServerFault = 'overload' | 'failure' | 'rejected';

export class ServerError extends TeacherlmError {
  readonly fault: ServerFault;
  /** From a `Retry-After` header, in ms. */
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(fault: ServerFault, message: string, options: { status?: number; retryAfterMs?: number; cause?: unknown; hint?: string } = {}) {
    super(fault === 'rejected' ? 'SERVER_REJECTED' : 'SERVER_UNAVAILABLE', message, { cause: options.cause, hint: options.hint });
    this.name = 'ServerError';
    this.fault = fault;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The error for a non-2xx reply. */
export function statusError(url: string, status: number, body: string, retryAfterMs: number | undefined): ServerError {
  const detail = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  const message = `${url} answered ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 429 || status === 503) return new ServerError('overload', message, { status, retryAfterMs });
  if (status === 408) return new ServerError('overload', message, { status, retryAfterMs });
  if (status >= 500) return new ServerError('failure', message, { status, retryAfterMs });
  const hint = status === 401 || status === 403 ? 'check the API key in the environment variable named by apiKeyEnv' : status === 404 ? 'check baseUrls (they include the /v1 prefix) and model' : undefined;
  return new ServerError('rejected', message, { status, hint });
}
