/**
 * The HTTP transport against real sockets on loopback: a tiny in-process server and the
 * tests' fault proxy in front of it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../../../src/teacher/openai/http-transport.js';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';

describe('HTTP transport', () => {
  let server: http.Server;
  let base: string;
  let proxy: FaultProxy;
  const transport = createHttpTransport();
  const post = (url: string, body: unknown = { prompt: 'p' }, requestTimeoutMs = 5_000) =>
    transport.post({ url, body, headers: { authorization: 'Bearer k' }, connectTimeoutMs: 1_000, requestTimeoutMs });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/hang') return; // never answers
        if (req.url === '/v1/busy') return void res.writeHead(429, { 'retry-after': '2' }).end('slow down');
        if (req.url === '/v1/notjson') return void res.writeHead(200).end('<html>');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: JSON.parse(Buffer.concat(chunks).toString()), auth: req.headers.authorization }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    proxy = await startFaultProxy(base, 3);
  });
  afterAll(async () => {
    transport.close();
    await proxy.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('posts JSON with the headers and resolves with the parsed reply', async () => {
    expect(await post(`${base}/completions`, { prompt: 'héllo' })).toEqual({ echo: { prompt: 'héllo' }, auth: 'Bearer k' });
  });

  it('turns statuses and bad replies into typed errors', async () => {
    await expect(post(`${base}/busy`)).rejects.toMatchObject({ fault: 'overload', status: 429, retryAfterMs: 2_000, code: 'SERVER_UNAVAILABLE' });
    await expect(post(`${base}/notjson`)).rejects.toMatchObject({ fault: 'rejected', retriable: false });
  });

  it('a request without a reply in time is an overload; a refused connection is a failure', async () => {
    await expect(post(`${base}/hang`, {}, 150)).rejects.toMatchObject({ fault: 'overload', message: expect.stringMatching(/within 150 ms/) });
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(post(`http://127.0.0.1:${port}/v1/completions`)).rejects.toMatchObject({ fault: 'failure', message: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('through the fault proxy: 503s, dropped connections and 429s above a request limit, and the bodies recorded', async () => {
    proxy.faults = { status503: 1 };
    await expect(post(`${proxy.baseUrl}/completions`)).rejects.toMatchObject({ fault: 'overload', status: 503 });
    proxy.faults = { drop: 1 };
    await expect(post(`${proxy.baseUrl}/completions`)).rejects.toMatchObject({ fault: 'failure' });
    proxy.faults = { maxInFlight: 1, slowMs: 100 };
    const both = await Promise.allSettled([post(`${proxy.baseUrl}/completions`, { n: 1 }), post(`${proxy.baseUrl}/completions`, { n: 2 })]);
    expect(both.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
    proxy.faults = {};
    expect(await post(`${proxy.baseUrl}/completions`, { prompt: 'x y' })).toMatchObject({ echo: { prompt: 'x y' } });
    expect(proxy.forwarded.at(-1)).toEqual({ prompt: 'x y' });
    expect(proxy.counts).toMatchObject({ status503: 1, dropped: 1, status429: 1 });
  });
});
