/**
 * A real HTTP proxy in front of an inference server that injects faults on demand:
 * 429s and 503s (with an optional Retry-After), slow replies, and connections dropped
 * before any reply. It records each request body, so tests can check the bytes a server
 * was sent. Faults are drawn from a seeded generator, so a run's mix is reproducible.
 *
 * @example
 * const proxy = await startFaultProxy(server.baseUrl);
 * proxy.faults = { status503: 0.2, drop: 0.05 };
 * // point the teacher at proxy.baseUrl
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Faults {
  /** Fraction of requests answered 429. */
  status429?: number;
  /** Fraction answered 503. */
  status503?: number;
  /** Retry-After sent with 429 and 503, in seconds. */
  retryAfterS?: number;
  /** Fraction whose connection is destroyed without a reply. */
  drop?: number;
  /** Delay added before forwarding, ms. */
  slowMs?: number;
  /** Answer 429 to requests beyond this many in flight (a server with a request limit, as TGI's). */
  maxInFlight?: number;
}

export interface FaultProxy {
  baseUrl: string;
  faults: Faults;
  /** Bodies of the requests forwarded (parsed JSON), in arrival order. */
  readonly forwarded: unknown[];
  readonly counts: { requests: number; forwarded: number; status429: number; status503: number; dropped: number };
  inFlight: number;
  close(): Promise<void>;
}

/** mulberry32: small, seeded, good enough to draw faults. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(targetBaseUrl: string, seed = 1): Promise<FaultProxy> {
  const target = new URL(targetBaseUrl);
  const random = seeded(seed);
  const agent = new http.Agent({ keepAlive: true });
  const proxy: FaultProxy = {
    baseUrl: '',
    faults: {},
    forwarded: [],
    counts: { requests: 0, forwarded: 0, status429: 0, status503: 0, dropped: 0 },
    inFlight: 0,
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      proxy.counts.requests++;
      proxy.inFlight++;
      let finished = false;
      const finish = () => {
        if (!finished) {
          finished = true;
          proxy.inFlight--;
        }
      };
      res.on('close', finish);
      const f = proxy.faults;
      const draw = random();
      const retryAfter = f.retryAfterS === undefined ? {} : { 'retry-after': String(f.retryAfterS) };
      const busy = f.maxInFlight !== undefined && proxy.inFlight > f.maxInFlight;
      if (busy || draw < (f.status429 ?? 0)) {
        proxy.counts.status429++;
        res.writeHead(429, { 'content-type': 'application/json', ...retryAfter }).end('{"error":"rate limited (injected)"}');
        return;
      }
      if (draw < (f.status429 ?? 0) + (f.status503 ?? 0)) {
        proxy.counts.status503++;
        res.writeHead(503, { 'content-type': 'application/json', ...retryAfter }).end('{"error":"unavailable (injected)"}');
        return;
      }
      if (draw < (f.status429 ?? 0) + (f.status503 ?? 0) + (f.drop ?? 0)) {
        proxy.counts.dropped++;
        req.socket.destroy();
        return;
      }
      const body = Buffer.concat(chunks);
      const forward = () => {
        try {
          proxy.forwarded.push(JSON.parse(body.toString('utf8')));
        } catch {
          proxy.forwarded.push(body.toString('utf8'));
        }
        proxy.counts.forwarded++;
        const path = target.pathname.replace(/\/$/, '') + (req.url ?? '/').replace(/^\/v1/, '');
        const upstream = http.request(
          { host: target.hostname, port: target.port, path, method: req.method, headers: { ...req.headers, host: target.host }, agent },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        // The server died: the client sees its connection dropped, as it would without the proxy.
        upstream.on('error', () => req.socket.destroy());
        upstream.end(body);
      };
      if (f.slowMs) setTimeout(forward, f.slowMs);
      else forward();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  proxy.baseUrl = `http://127.0.0.1:${port}/v1`;
  proxy.close = () =>
    new Promise((r) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  return proxy;
}
