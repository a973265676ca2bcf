import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitForBrokers } from '../../src/kafka/wait-for-brokers.js';

/** A port nobody listens on: one we held and closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('waitForBrokers', () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

  it('resolves when one bootstrap address accepts connections', async () => {
    const server = createServer((socket) => socket.destroy());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await expect(waitForBrokers([`127.0.0.1:${await closedPort()}`, `127.0.0.1:${port}`], { timeoutMs: 2_000 })).resolves.toBeUndefined();
  });

  it('fails with one BROKER_UNREACHABLE naming the addresses when none answers', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    await expect(waitForBrokers([address], { timeoutMs: 300, intervalMs: 50 })).rejects.toMatchObject({
      code: 'BROKER_UNREACHABLE',
      message: expect.stringContaining(address),
    });
  });

  it('makes `teacherlm tail` say so in one line, with no kafkajs retry lines before it', async () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'teacherlm.js');
    const child = spawn(process.execPath, [bin, 'tail', '--max', '1'], {
      env: { ...process.env, TEACHERLM_FROM_SOURCE: '1', KAFKA_BROKERS: `127.0.0.1:${await closedPort()}`, OTEL_SDK_DISABLED: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).not.toBe(0);
    expect(stderr).not.toContain('kafkajs');
    expect(stderr.trim().split('\n').filter((l) => l.includes('BROKER_UNREACHABLE'))).toHaveLength(1);
  }, 60_000);
});
