import { describe, expect, it } from 'vitest';
import { resolveLayout, type MachineFacts } from '../../src/teacher/engine-layout.js';
import { resolveEngineOptions } from '../../src/teacher/engine-options.js';
import { modelDir } from './support/models.js';

const GiB = 2 ** 30;
const machine = (over: Partial<MachineFacts> = {}): MachineFacts => ({ cores: 2, memoryBytes: 24 * GiB, sessionBytes: 0.5 * GiB, cuda: false, ...over });

describe('engine layout: auto', () => {
  it('runs one single-threaded session per core on the CPU', () => {
    expect(resolveLayout('auto', 'auto', machine())).toEqual({ workers: 2, intraOpThreads: 1 });
    expect(resolveLayout('auto', undefined, machine({ cores: 1 }))).toEqual({ workers: 1, intraOpThreads: 1 });
    expect(resolveLayout('auto', 'auto', machine({ cores: 6 }))).toEqual({ workers: 6, intraOpThreads: 1 });
  });

  it('caps sessions at 8 and at half the memory, giving the remaining cores to their threads', () => {
    expect(resolveLayout('auto', 'auto', machine({ cores: 32, memoryBytes: 256 * GiB }))).toEqual({ workers: 8, intraOpThreads: 4 });
    expect(resolveLayout('auto', 'auto', machine({ cores: 16, memoryBytes: 4 * GiB, sessionBytes: 0.6 * GiB }))).toEqual({ workers: 3, intraOpThreads: 5 });
    expect(resolveLayout('auto', 'auto', machine({ cores: 4, memoryBytes: 1 * GiB, sessionBytes: 2 * GiB }))).toEqual({ workers: 1, intraOpThreads: 4 });
  });

  it('gives CUDA one session', () => {
    expect(resolveLayout('auto', 'auto', machine({ cores: 16, cuda: true }))).toEqual({ workers: 1, intraOpThreads: 16 });
  });

  it('honours explicit numbers, alone or beside auto', () => {
    expect(resolveLayout(1, 2, machine())).toEqual({ workers: 1, intraOpThreads: 2 });
    expect(resolveLayout(3, 'auto', machine({ cores: 6 }))).toEqual({ workers: 3, intraOpThreads: 2 });
    expect(resolveLayout('auto', 3, machine({ cores: 4 }))).toEqual({ workers: 4, intraOpThreads: 3 });
  });

  it('is accepted by the engine options, which still default to one worker', () => {
    const dir = modelDir('tiny-llama');
    expect(resolveEngineOptions({ modelDir: dir }).workers).toBe(1);
    expect(resolveEngineOptions({ modelDir: dir, workers: 'auto' }).workers).toBeGreaterThanOrEqual(1);
    expect(() => resolveEngineOptions({ modelDir: dir, workers: 'many' as never })).toThrow(/workers/);
  });
});
