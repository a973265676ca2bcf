/**
 * One JSON POST to an inference server over node:http(s), with a keep-alive agent per
 * pool, a connect timeout and a whole-request timeout. Network errors become typed
 * {@link ServerError}s: a refused or reset connection is a `failure`, a timeout an `overload`.
 */
import http from 'node:http';
import https from 'node:https';
import { ServerError, parseRetryAfter, statusError } from './server-error.js';

export interface TransportRequest {
  /** Full URL (base URL + endpoint path). */
  url: string;
  body: unknown;
  headers: Record<string, string>;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

/** Resolves with the parsed JSON of a 2xx reply; rejects with a ServerError. */
export type Transport = (request: TransportRequest) => Promise<unknown>;

export interface HttpTransport {
  post: Transport;
  /** Closes the idle keep-alive sockets. */
  close(): void;
}

export function createHttpTransport(): HttpTransport {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const post: Transport = (request) =>
    new Promise((resolve, reject) => {
      const url = new URL(request.url);
      const secure = url.protocol === 'https:';
      const payload = Buffer.from(JSON.stringify(request.body));
      let settled = false;
      const done = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(whole);
        clearTimeout(connect);
        fn();
      };
      const req = (secure ? https : http).request(url, {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': String(payload.length), ...request.headers },
      });
      const whole = setTimeout(() => {
        done(() => reject(new ServerError('overload', `${request.url}: no complete reply within ${request.requestTimeoutMs} ms`)));
        req.destroy();
      }, request.requestTimeoutMs);
      let connect: NodeJS.Timeout | undefined;
      req.on('socket', (socket) => {
        if (!socket.connecting) return; // a reused keep-alive socket
        connect = setTimeout(() => {
          done(() => reject(new ServerError('failure', `${request.url}: could not connect within ${request.connectTimeoutMs} ms`)));
          req.destroy();
        }, request.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connect));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        done(() => reject(new ServerError('failure', `${request.url}: ${err.code ?? err.message}`, { cause: err })));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => done(() => reject(new ServerError('failure', `${request.url}: reply cut off (${err.message})`, { cause: err }))));
        res.on('close', () => {
          if (!res.complete) done(() => reject(new ServerError('failure', `${request.url}: reply cut off`)));
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const retryAfter = res.headers['retry-after'];
            done(() => reject(statusError(request.url, status, text, parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now()))));
            return;
          }
          try {
            const json: unknown = JSON.parse(text);
            done(() => resolve(json));
          } catch (err) {
            done(() => reject(new ServerError('rejected', `${request.url}: the reply is not JSON: ${text.slice(0, 120)}`, { status, cause: err })));
          }
        });
      });
      req.end(payload);
    });
  return {
    post,
    close: () => {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
