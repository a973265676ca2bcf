import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { startTelemetry } from '../../src/telemetry/setup.js';
import { StderrSpanExporter } from '../../src/telemetry/stderr-span-exporter.js';

describe('startTelemetry', () => {
  it('is a no-op without an exporter', async () => {
    const telemetry = startTelemetry({ env: {} });
    expect(telemetry.enabled).toBe(false);
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
    await telemetry.shutdown();
  });

  it('records spans, shuts down idempotently, and can start again afterwards', async () => {
    const exporter = new InMemorySpanExporter();
    const first = startTelemetry({ spanProcessors: [new SimpleSpanProcessor(exporter)], env: {}, serviceName: 'svc' });
    trace.getTracer('t').startSpan('one').end();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['one']);
    expect(exporter.getFinishedSpans()[0]?.resource.attributes['service.name']).toBe('svc');
    const stopping = first.shutdown();
    expect(first.shutdown()).toBe(stopping);
    await stopping;
    expect(trace.getTracer('t').startSpan('after').isRecording()).toBe(false);

    const again = new InMemorySpanExporter();
    const second = startTelemetry({ spanProcessors: [new SimpleSpanProcessor(again)], env: {} });
    trace.getTracer('t').startSpan('two').end();
    expect(again.getFinishedSpans().map((s) => s.name)).toEqual(['two']);
    await second.shutdown();
  });

  it('console mode writes one JSON line per span to its stream, not stdout', async () => {
    const lines: string[] = [];
    const telemetry = startTelemetry({ spanProcessors: [new SimpleSpanProcessor(new StderrSpanExporter((l) => lines.push(l)))], env: {} });
    trace.getTracer('t').startSpan('logged', { attributes: { a: 1 } }).end();
    await telemetry.shutdown();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ span: 'logged', attributes: { a: 1 } });
  });
});

describe('startTelemetry with OTLP over HTTP', () => {
  it('posts the spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces when shut down', async () => {
    const { createServer } = await import('node:http');
    const received: { url: string | undefined; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ url: req.url, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const telemetry = startTelemetry({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }, serviceName: 'svc-otlp' });
      expect(telemetry.config.exporter).toBe('otlp');
      trace.getTracer('t').startSpan('exported-span').end();
      await telemetry.shutdown();
      expect(received).toHaveLength(1);
      expect(received[0]?.url).toBe('/v1/traces');
      expect(received[0]?.body).toContain('exported-span');
      expect(received[0]?.body).toContain('svc-otlp');
    } finally {
      server.close();
    }
  });
});
