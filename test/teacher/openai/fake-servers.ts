/**
 * Inference servers simulated in virtual time (fake timers) behind the {@link Transport}
 * interface: each answers after `latencyMs`, or fails as its `behave` says.
 */
import type { Transport, TransportRequest } from '../../../src/teacher/openai/http-transport.js';
import { ServerError, statusError } from '../../../src/teacher/openai/server-error.js';

export type Behaviour = 'ok' | { status: number; retryAfterMs?: number } | 'reset' | 'timeout';

export interface FakeServer {
  inFlight: number;
  peakInFlight: number;
  /** In-flight count seen by each request as it arrived. */
  arrivals: number[];
  requests: TransportRequest[];
  latencyMs: number;
  behave: (inFlight: number, n: number) => Behaviour;
}

export function fakeServer(partial: Partial<FakeServer> = {}): FakeServer {
  return { inFlight: 0, peakInFlight: 0, arrivals: [], requests: [], latencyMs: 100, behave: () => 'ok', ...partial };
}

/** A completion reply echoing the prompt's length. */
export function completionJson(request: TransportRequest): unknown {
  const body = request.body as { prompt?: string; messages?: { content: string }[] };
  const text = `reply to ${body.prompt ?? body.messages?.[0]?.content}`;
  const usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };
  return body.messages
    ? { choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage }
    : { choices: [{ index: 0, text, finish_reason: 'length' }], usage };
}

/** A transport routing by base URL to the fake servers. */
export function fakeTransport(servers: Record<string, FakeServer>): Transport {
  return (request) => {
    const base = Object.keys(servers).find((b) => request.url.startsWith(b));
    if (!base) return Promise.reject(new ServerError('failure', `${request.url}: ECONNREFUSED`));
    const s = servers[base] as FakeServer;
    s.requests.push(request);
    s.inFlight++;
    s.peakInFlight = Math.max(s.peakInFlight, s.inFlight);
    s.arrivals.push(s.inFlight);
    const behaviour = s.behave(s.inFlight, s.requests.length);
    return new Promise((resolve, reject) => {
      const after = behaviour === 'timeout' ? request.requestTimeoutMs : behaviour === 'reset' ? 1 : s.latencyMs;
      setTimeout(() => {
        s.inFlight--;
        if (behaviour === 'ok') resolve(completionJson(request));
        else if (behaviour === 'reset') reject(new ServerError('failure', `${request.url}: ECONNRESET`));
        else if (behaviour === 'timeout') reject(new ServerError('overload', `${request.url}: no complete reply within ${request.requestTimeoutMs} ms`));
        else reject(statusError(request.url, behaviour.status, 'busy', behaviour.retryAfterMs));
      }, after);
    });
  };
}
