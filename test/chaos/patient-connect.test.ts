import { describe, expect, it } from 'vitest';
import { connectPatiently, type Connectable } from './support/patient-connect.js';

/** A client whose connect fails with `errors` in turn (each taking `takesMs` of the clock), then succeeds. */
function flaky(errors: Error[], clock: { t: number }, takesMs: number): Connectable & { connects: number; disconnects: number } {
  return {
    connects: 0,
    disconnects: 0,
    async connect() {
      this.connects++;
      clock.t += takesMs;
      const e = errors.shift();
      if (e) throw e;
    },
    async disconnect() {
      this.disconnects++;
    },
  };
}

const closed = () => Object.assign(new Error('Closed connection'), { name: 'KafkaJSConnectionClosedError' });

describe('connectPatiently', () => {
  it('keeps trying past the attempts kafkajs gives up after, starting afresh each time', async () => {
    const clock = { t: 0 };
    const client = flaky([closed(), closed(), closed(), closed(), closed(), closed()], clock, 30_000);
    await connectPatiently(client, 'the stream', { deadlineMs: 300_000, now: () => clock.t, sleep: async (ms) => void (clock.t += ms) });
    expect(client.connects).toBe(7);
    expect(client.disconnects).toBe(6);
  });

  it('gives up at the deadline, naming every attempt and keeping the last error as cause', async () => {
    const clock = { t: 0 };
    const last = closed();
    const client = flaky([closed(), last, closed()], clock, 30_000);
    const failed = connectPatiently(client, 'the stream', { deadlineMs: 60_000, now: () => clock.t, sleep: async (ms) => void (clock.t += ms) });
    await expect(failed).rejects.toThrow(/^the stream could not connect in 60 s, 2 attempts: 30\.0 s KafkaJSConnectionClosedError: Closed connection; 61\.0 s KafkaJSConnectionClosedError: Closed connection$/);
    await expect(failed).rejects.toHaveProperty('cause', last);
  });
});
