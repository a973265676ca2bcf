import { describe, expect, it } from 'vitest';
import { mkdtempSync, realpathSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineIdentity, modelIdentity, tuningDir, tuningKey, tuningPath } from '../../../src/teacher/tuning/tuning-identity.js';

const machine = (over: Partial<ReturnType<typeof machineIdentity>> = {}) => ({ ...machineIdentity('cpu', ['avx2', 'avx512f'], 2), ...over });

describe('tuning key', () => {
  it('is the same for the same model path, cores, flags (in any order) and device', () => {
    expect(tuningKey('/m/model.onnx', machine())).toMatch(/^[0-9a-f]{16}$/);
    expect(tuningKey('/m/model.onnx', machine())).toBe(tuningKey('/m/../m/model.onnx', machine({ cpuFlags: ['avx512f', 'avx2'] })));
  });

  it('differs when any of them differs', () => {
    const base = tuningKey('/m/model.onnx', machine());
    const others = [
      tuningKey('/m/model_buffered.onnx', machine()),
      tuningKey('/m/model.onnx', machine({ cores: 4 })),
      tuningKey('/m/model.onnx', machine({ cpuFlags: ['avx2', 'avx512f', 'amx_int8'] })),
      tuningKey('/m/model.onnx', machine({ device: 'cuda' })),
    ];
    for (const k of others) expect(k).not.toBe(base);
    expect(new Set(others).size).toBe(others.length);
  });

  it('names a file under the project cache, or under TEACHERLM_CACHE_DIR', () => {
    expect(tuningDir({})).toMatch(/\.cache[/\\]tune$/);
    expect(tuningPath('abc', { TEACHERLM_CACHE_DIR: '/tmp/c' })).toBe(join('/tmp/c', 'tune', 'abc.json'));
  });
});

describe('model identity', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tuning-identity-')));

  it("follows the file's content and size, not its modification time", () => {
    const file = join(dir, 'model.onnx');
    writeFileSync(file, Buffer.alloc(3 << 20, 1));
    const first = modelIdentity(file)!;
    expect(first).toMatchObject({ path: file, bytes: 3 << 20 });
    utimesSync(file, new Date(2020, 0, 1), new Date(2020, 0, 1));
    expect(modelIdentity(file)).toEqual(first);
    const changed = Buffer.alloc(3 << 20, 1);
    changed[changed.length - 1] = 2; // in the last MiB
    writeFileSync(file, changed);
    expect(modelIdentity(file)!.fingerprint).not.toBe(first.fingerprint);
    writeFileSync(file, Buffer.alloc((3 << 20) + 1, 1));
    expect(modelIdentity(file)!.fingerprint).not.toBe(first.fingerprint);
  });

  it('names a linked file by its target', () => {
    const file = join(dir, 'target.onnx');
    writeFileSync(file, 'abc');
    symlinkSync(dir, join(dir, 'link'));
    expect(modelIdentity(join(dir, 'link', 'target.onnx'))).toEqual(modelIdentity(file));
    expect(modelIdentity(join(dir, 'link', 'target.onnx'))!.path).toBe(file);
  });

  it('reads small files whole and is undefined for a missing one', () => {
    const file = join(dir, 'tiny.onnx');
    writeFileSync(file, 'abc');
    expect(modelIdentity(file)!.bytes).toBe(3);
    expect(modelIdentity(join(dir, 'missing.onnx'))).toBeUndefined();
  });
});
