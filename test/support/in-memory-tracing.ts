/**
 * The OpenTelemetry SDK with an in-memory exporter, registered for the enclosing
 * `describe` block and emptied before each test.
 *
 * @example
 * describe('spans', () => {
 *   const exporter = inMemoryTracing();
 *   it('...', () => expect(exporter.getFinishedSpans()).toHaveLength(1));
 * });
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type Telemetry, startTelemetry } from '../../src/telemetry/setup.js';

export function inMemoryTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry | undefined;
  beforeAll(() => {
    telemetry = startTelemetry({ spanProcessors: [new SimpleSpanProcessor(exporter)], env: {} });
  });
  afterAll(() => telemetry?.shutdown());
  beforeEach(() => exporter.reset());
  return exporter;
}
