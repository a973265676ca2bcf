import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { type MetricsServer, startMetricsServer } from '../../src/telemetry/metrics-server.js';
import { isTeacherlmError } from '../../src/errors.js';

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers /readyz 503 naming the failing checks until all pass, and /healthz 200 throughout', async () => {
    let engines = false;
    server = await startMetricsServer({
      port: 0,
      readiness: { engines: () => engines, broker: async () => true, partitions: () => { throw new Error('no source yet'); } },
    });
    const at = (path: string) => fetch(`http://127.0.0.1:${server!.port}${path}`);
    const before = await at('/readyz');
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ ready: false, checks: { engines: false, broker: true, partitions: false } });
    expect((await at('/healthz')).status).toBe(200);
    engines = true;
    expect((await at('/readyz')).status).toBe(503);
    await server.close();
    server = await startMetricsServer({ port: 0, readiness: { engines: () => engines } });
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.port}/nope`)).status).toBe(404);
  });

  it('serves the Prometheus exporter at /metrics', async () => {
    const prometheus = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [prometheus] });
    provider.getMeter('t').createCounter('teacherlm.things').add(3, { kind: 'a' });
    server = await startMetricsServer({ port: 0, prometheus });
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(text).toMatch(/^teacherlm_things_total\{kind="a",otel_scope_name="t"\} 3$/m);
    await provider.shutdown();
  });

  it('names the flag when the port is taken', async () => {
    server = await startMetricsServer({ port: 0 });
    const error = await startMetricsServer({ port: server.port }).catch((e: unknown) => e);
    expect(isTeacherlmError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain('--metrics-port');
  });
});
