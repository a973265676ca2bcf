import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isHandshakePending } from '../../src/kafka/handshake-pending.js';

// kafkajs's own Broker before its handshake: the error comes from the library, not a copy of its text.
const require = createRequire(import.meta.url);
const Broker = require('kafkajs/src/broker/index.js') as new (o: object) => { metadata(topics: string[]): Promise<unknown> };
const logger = { namespace: () => logger, debug() {}, info() {}, warn() {}, error() {} };

async function handshakeError(): Promise<unknown> {
  const broker = new Broker({ connectionPool: { connectionTimeout: 1000, host: '127.0.0.1', port: 9, isConnected: () => true }, logger });
  return broker.metadata(['t']).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('isHandshakePending', () => {
  it("recognises kafkajs's error for a broker whose handshake has not finished, also as a cause", async () => {
    const err = await handshakeError();
    expect(err).toBeInstanceOf(Error);
    expect(isHandshakePending(err)).toBe(true);
    expect(isHandshakePending(new Error('send failed', { cause: err }))).toBe(true);
  });

  it('does not take other errors for it', () => {
    expect(isHandshakePending(new Error('Connection error: ECONNREFUSED'))).toBe(false);
    expect(isHandshakePending('Broker not connected')).toBe(false);
    expect(isHandshakePending(undefined)).toBe(false);
  });
});
