import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isPortFree } from '../../../src/kafka/local/port-check.js';

describe('isPortFree', () => {
  it('is false while something listens and true once it closed', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    expect(await isPortFree('127.0.0.1', port)).toBe(false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await isPortFree('127.0.0.1', port)).toBe(true);
  });
});
