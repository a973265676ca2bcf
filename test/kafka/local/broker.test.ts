import { describe, expect, it } from 'vitest';
import { diagnose, lastStartTail, startLocalBroker } from '../../../src/kafka/local/broker.js';
import { isTeacherlmError } from '../../../src/errors.js';

const ports = { port: 9092, controllerPort: 9093 };

describe('diagnose', () => {
  it('recognises a taken port', () => {
    const log = '[2026-11-23] ERROR Exiting Kafka due to fatal exception\norg.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:9093: Address already in use.';
    expect(diagnose(log, ports)).toBe('port 9092 or 9093 is already in use');
  });

  it('recognises a Java too old for Kafka 4', () => {
    expect(diagnose('Error: LinkageError occurred\njava.lang.UnsupportedClassVersionError: kafka/Kafka', ports)).toBe('the Java runtime is too old (Kafka 4 needs 17+)');
  });

  it('otherwise gives the last error line', () => {
    const log = 'INFO starting\nERROR [KafkaRaftServer nodeId=1] Fatal error during startup: java.lang.RuntimeException: boom\nINFO shut down';
    expect(diagnose(log, ports)).toBe('ERROR [KafkaRaftServer nodeId=1] Fatal error during startup: java.lang.RuntimeException: boom');
    expect(diagnose('', ports)).toBe('no output');
  });
});

describe('lastStartTail', () => {
  it('reads only the last start of a log that restarts append to', () => {
    const log = [
      '----- teacherlm: broker starting at 2026-12-02T01:00:00.000Z',
      'ERROR Invalid cluster.id in meta.properties',
      '',
      '----- teacherlm: broker starting at 2026-12-02T01:05:00.000Z',
      'ERROR Socket server failed to bind to 127.0.0.1:9093: Address already in use.',
    ].join('\n');
    const tail = lastStartTail(log);
    expect(tail).toMatch(/^----- teacherlm: broker starting at 2026-12-02T01:05/);
    expect(tail).not.toContain('cluster.id');
    expect(diagnose(tail, ports)).toBe('port 9092 or 9093 is already in use');
    expect(lastStartTail('no marker at all', 6)).toBe('at all');
  });
});

describe('startLocalBroker options', () => {
  it('rejects a port the controller cannot sit next to, before doing anything', async () => {
    for (const port of [80, 65535, 9092.5]) {
      const err = await startLocalBroker({ port }).catch((e: unknown) => e);
      expect(isTeacherlmError(err, 'INVALID_OPTIONS'), String(port)).toBe(true);
      expect((err as Error).message).toMatch(/^port: expected an integer from 1024 to 65534/);
    }
  });
});
