import { describe, expect, it } from 'vitest';
import { logLevel } from 'kafkajs';
import { createKafka, effectiveLevel, parseKafkaLogLevel, type KafkaLogSink } from '../../src/kafka/client.js';
import { isTeacherlmError } from '../../src/errors.js';

describe('parseKafkaLogLevel', () => {
  it('defaults to warn and accepts any case', () => {
    expect(parseKafkaLogLevel(undefined)).toBe('warn');
    expect(parseKafkaLogLevel('DEBUG')).toBe('debug');
  });
  it('names the variable when the value is wrong', () => {
    expect(() => parseKafkaLogLevel('loud')).toThrow('TEACHERLM_KAFKA_LOG: expected one of nothing, error, warn, info, debug, got "loud"');
  });
});

describe('effectiveLevel', () => {
  it('demotes error responses and announced retries, keeps real errors', () => {
    expect(effectiveLevel(logLevel.ERROR, 'Connection', 'Response InitProducerId(key: 22, version: 1)')).toBe(logLevel.DEBUG);
    expect(effectiveLevel(logLevel.ERROR, 'Producer', 'Failed to send messages', { retryCount: 0, retryTime: 300 })).toBe(logLevel.DEBUG);
    expect(effectiveLevel(logLevel.ERROR, 'Consumer', 'Crash: KafkaJSNumberOfRetriesExceeded')).toBe(logLevel.ERROR);
  });
});

describe('createKafka', () => {
  it('requires brokers', () => {
    let err: unknown;
    try {
      createKafka({ brokers: [] });
    } catch (e) {
      err = e;
    }
    expect(isTeacherlmError(err, 'INVALID_OPTIONS')).toBe(true);
  });

  it('forwards kafkajs log entries at or above the level to the sink', () => {
    const lines: string[] = [];
    const sink: KafkaLogSink = (level, message) => lines.push(`${level} ${message}`);
    const logger = createKafka({ brokers: ['127.0.0.1:1'], log: sink, logLevel: 'warn' }).logger().namespace('Test');
    logger.warn('broker gone');
    logger.info('connected');
    expect(lines).toEqual(['warn [Test] broker gone']);

    lines.length = 0;
    createKafka({ brokers: ['127.0.0.1:1'], log: sink, logLevel: 'error' }).logger().namespace('Test').warn('broker gone');
    expect(lines).toEqual([]);
  });

  it("demotes kafkajs's bounded-retries warning of idempotent producers to debug", () => {
    // An idempotent producer with limited retries makes kafkajs warn at creation, offline.
    const lines: string[] = [];
    const sink: KafkaLogSink = (level, message) => lines.push(`${level} ${message}`);
    createKafka({ brokers: ['127.0.0.1:1'], log: sink, logLevel: 'warn' }).producer({ idempotent: true });
    expect(lines).toEqual([]);

    createKafka({ brokers: ['127.0.0.1:1'], log: sink, logLevel: 'debug' }).producer({ idempotent: true });
    expect(lines).toContain('debug [Producer] Limiting retries for the idempotent producer may invalidate EoS guarantees');
  });
});
