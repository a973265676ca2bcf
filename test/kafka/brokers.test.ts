import { describe, expect, it } from 'vitest';
import { DEFAULT_KAFKA_IMAGE, parseBrokerList, resolveBrokers } from '../../src/kafka/brokers.js';
import { isTeacherlmError } from '../../src/errors.js';

describe('parseBrokerList', () => {
  it('splits and trims host:port pairs', () => {
    expect(parseBrokerList(' kafka:9092, 10.0.0.5:19092 ,[::1]:9092')).toEqual(['kafka:9092', '10.0.0.5:19092', '[::1]:9092']);
  });

  it('rejects entries that are not host:port, naming the variable', () => {
    for (const bad of ['kafka', 'kafka:', 'kafka:0', 'kafka:70000', 'http://kafka:9092', ' , ']) {
      let err: unknown;
      try {
        parseBrokerList(bad);
      } catch (e) {
        err = e;
      }
      expect(isTeacherlmError(err, 'INVALID_OPTIONS'), bad).toBe(true);
      expect((err as Error).message).toMatch(/^KAFKA_BROKERS: expected /);
    }
  });
});

describe('resolveBrokers', () => {
  const noDocker = async () => {
    throw new Error('the Docker probe must not run');
  };

  it('uses KAFKA_BROKERS without probing or starting anything', async () => {
    const res = await resolveBrokers({ env: { KAFKA_BROKERS: 'a:1,b:2' }, probeDocker: noDocker });
    expect(res).toMatchObject({ brokers: ['a:1', 'b:2'], source: 'env', startedHere: false });
    await res.stop();
  });

  it('starts a container when a Docker engine answers, and stops it once', async () => {
    const started: string[] = [];
    let stops = 0;
    const res = await resolveBrokers({
      env: {},
      probeDocker: async () => true,
      startContainer: async (image) => {
        started.push(image);
        return { brokers: ['localhost:32768'], stop: async () => void stops++ };
      },
    });
    expect(res).toMatchObject({ brokers: ['localhost:32768'], source: 'testcontainers', startedHere: true });
    expect(started).toEqual([DEFAULT_KAFKA_IMAGE]);
    await res.stop();
    await res.stop();
    expect(stops).toBe(1);
  });

  it('honours TEACHERLM_KAFKA_IMAGE, and turns a container failure into one clear error', async () => {
    const err = await resolveBrokers({
      env: { TEACHERLM_KAFKA_IMAGE: 'my/kafka:1' },
      probeDocker: async () => true,
      startContainer: async (image) => {
        throw new Error(`pull access denied for ${image}`);
      },
    }).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'BROKER_START_FAILED')).toBe(true);
    expect((err as Error).message).toBe('could not start a Kafka container (my/kafka:1): pull access denied for my/kafka:1');
  });

  it('skips the Docker probe with TEACHERLM_KAFKA_DOCKER=0 and validates the local port first', async () => {
    const err = await resolveBrokers({ env: { TEACHERLM_KAFKA_DOCKER: '0', TEACHERLM_KAFKA_PORT: 'nine' }, probeDocker: noDocker }).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'INVALID_OPTIONS')).toBe(true);
    expect((err as Error).message).toMatch(/TEACHERLM_KAFKA_PORT/);
  });
});
