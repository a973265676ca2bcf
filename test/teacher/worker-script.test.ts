import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerScript } from '../../src/teacher/worker-script.js';

describe('workerScript', () => {
  it('starts the compiled .js entry from dist directly', () => {
    const s = workerScript('generation-worker', 'file:///app/dist/teacher/worker-pool.js');
    expect(s.url.href).toBe('file:///app/dist/teacher/generation-worker.js');
    expect(s.argv).toEqual([]);
  });

  it('starts a .ts entry from source through the tsx bootstrap', () => {
    const s = workerScript('generation-worker');
    expect(s.url.pathname.endsWith('/src/teacher/ts-worker-bootstrap.mjs')).toBe(true);
    expect(existsSync(fileURLToPath(s.url))).toBe(true);
    expect(existsSync(fileURLToPath(s.argv[0]!))).toBe(true);
    expect(s.argv[0]!.endsWith('/src/teacher/generation-worker.ts')).toBe(true);
  });
});
