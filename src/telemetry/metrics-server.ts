/**
 * The worker's one HTTP port (`teacherlm run --metrics-port N`), for Prometheus and for
 * supervisors (Kubernetes probes, systemd):
 * - `GET /metrics`: the Prometheus text format, from the OpenTelemetry Prometheus exporter;
 * - `GET /healthz`: 200 while the process answers (liveness);
 * - `GET /readyz`: 200 when every readiness check passes, else 503; the body names each
 *   check (`{"ready":false,"checks":{"engines":false,...}}`).
 * It listens on 127.0.0.1 unless `host` says otherwise (`0.0.0.0` in a container).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { TeacherlmError } from '../errors.js';

/** One readiness condition; a check that throws counts as not ready. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface MetricsServerOptions {
  port: number;
  host?: string;
  prometheus?: PrometheusExporter;
  /** Named checks, all of which must pass for `/readyz` to answer 200. */
  readiness?: Record<string, ReadinessCheck>;
}

export interface MetricsServer {
  /** The port listened on (the one asked for, or the one chosen for port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export async function readinessOf(checks: Record<string, ReadinessCheck>): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await Promise.resolve().then(check).catch(() => false)] as const),
  );
  return { ready: entries.every(([, ok]) => ok), checks: Object.fromEntries(entries) };
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const readiness = options.readiness ?? {};
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics' && options.prometheus) {
      options.prometheus.getMetricsRequestHandler(req, res);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      void readinessOf(readiness).then((report) => {
        res.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(report)}\n`);
      });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    }
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new TeacherlmError('INVALID_OPTIONS', `--metrics-port: cannot listen on ${options.host ?? '127.0.0.1'}:${options.port}: ${err.code ?? err.message}`, {
          cause: err,
          hint: err.code === 'EADDRINUSE' ? 'another process holds the port: pick another one' : undefined,
        }),
      ),
    );
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  // Probes keep connections alive; they must not hold the process open at exit.
  server.unref();
  const { port } = server.address() as { port: number };
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
