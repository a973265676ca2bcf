import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TraceFlags } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { FinishedSpans } from '../../src/telemetry/finished-spans.js';
import { OtlpProtoSpanExporter } from '../../src/telemetry/otlp-proto-span-exporter.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** An HTTP server that keeps each request's path, headers and body, answering 200 with an empty response. */
async function receiver() {
  const requests: { url: string; headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, requests };
}

describe('OTLP protobuf span exporter', () => {
  it("posts the SDK serializer's bytes as application/x-protobuf to the traces URL", async () => {
    const memory = new InMemorySpanExporter();
    const spans = new FinishedSpans([new SimpleSpanProcessor(memory)], resourceFromAttributes({ 'service.name': 'teacherlm-test' }));
    const context = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    spans.emit({ name: 'decode', context, start: 1_700_000_000_000, end: 1_700_000_000_001, attributes: { 'teacherlm.stage': 'decode' } });
    spans.emit({ name: 'encode', context: { ...context, spanId: 'c7ad6b7169203331' }, parent: context, start: 1_700_000_000_002, end: 1_700_000_000_003, attributes: {} });
    const finished = memory.getFinishedSpans();

    const { url, requests } = await receiver();
    const exporter = new OtlpProtoSpanExporter({ url });
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(finished, resolve));
    await exporter.shutdown();

    expect(result.error).toBeUndefined();
    expect(result.code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe('/v1/traces');
    expect(requests[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(requests[0]!.body.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(finished)!))).toBe(true);
  });

  it('reports a refused export as failed, as the SDK exporter does', async () => {
    const server = createServer((_req, res) => res.writeHead(400).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const exporter = new OtlpProtoSpanExporter({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces` });
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export([], resolve));
    await exporter.shutdown();
    expect(result.code).toBe(1);
  });
});
