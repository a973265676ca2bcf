import { describe, expect, it } from 'vitest';
import { createShutdown, type ShutdownSteps } from '../../src/pipeline/shutdown.js';

function steps(overrides: Partial<ShutdownSteps> = {}) {
  const calls: string[] = [];
  const base: ShutdownSteps = {
    stopFetching: () => void calls.push('stopFetching'),
    drain: async (ms) => (calls.push(`drain ${ms}`), true),
    flush: async () => void calls.push('flush'),
    commit: async () => void calls.push('commit'),
    disconnect: async () => void calls.push('disconnect'),
  };
  return { calls, steps: { ...base, ...overrides } };
}

describe('createShutdown', () => {
  it('stops fetching, drains, flushes, commits and disconnects, in that order, once', async () => {
    const { calls, steps: s } = steps();
    const shutdown = createShutdown(s, { drainTimeoutMs: 500 });
    const [a, b] = await Promise.all([shutdown(), shutdown()]);
    expect(a).toBe(b);
    expect(calls).toEqual(['stopFetching', 'drain 500', 'flush', 'commit', 'disconnect']);
    expect(a).toEqual({ drained: true, committed: true, errors: [] });
  });

  it('reports abandoned work and still commits what was written', async () => {
    const { steps: s } = steps({ drain: async () => false });
    expect(await createShutdown(s, { drainTimeoutMs: 1 })()).toMatchObject({ drained: false, committed: true });
  });

  it('never commits after a failed flush, but still disconnects', async () => {
    const order: string[] = [];
    const s: ShutdownSteps = {
      stopFetching: () => void order.push('stopFetching'),
      drain: async () => true,
      flush: async () => {
        throw new Error('broker gone');
      },
      commit: async () => void order.push('commit'),
      disconnect: async () => void order.push('disconnect'),
    };
    const report = await createShutdown(s, { drainTimeoutMs: 1 })();
    expect(order).toEqual(['stopFetching', 'disconnect']);
    expect(report.committed).toBe(false);
    expect(report.errors.map((e) => e.step)).toEqual(['flush']);
  });
});
