import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTuning, writeTuning } from '../../../src/teacher/tuning/tuning-file.js';
import { expectation, tuningFor } from '../support/tuning.js';

const dir = mkdtempSync(join(tmpdir(), 'tuning-file-'));
let n = 0;
const fileWith = (text: string): string => {
  const path = join(dir, `t${n++}.json`);
  writeFileSync(path, text);
  return path;
};

describe('tuning file', () => {
  it('reads back what was written, leaving no temporary file', () => {
    const path = join(dir, 'nested', 'k.json');
    writeTuning(path, tuningFor());
    expect(readTuning(path, expectation())).toEqual({ status: 'tuned', path, tuning: tuningFor() });
    expect(readdirSync(join(dir, 'nested'))).toEqual(['k.json']);
  });

  it('says which file it could not write', () => {
    const blocker = fileWith('a file where the folder should be');
    expect(() => writeTuning(join(blocker, 'k.json'), tuningFor())).toThrow(expect.objectContaining({ code: 'IO_FAILED', message: expect.stringContaining(`cannot write the layout tuning ${join(blocker, 'k.json')}`) }));
  });

  it('is none when there is no file', () => {
    expect(readTuning(join(dir, 'missing.json'), expectation())).toEqual({ status: 'none', path: join(dir, 'missing.json') });
  });

  it('ignores a malformed file, saying what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['{"format": 1,', /^malformed: not JSON/],
      ['[]', /^malformed: expected a JSON object/],
      [JSON.stringify({ ...tuningFor(), format: 2 }), /^malformed: format: expected 1, got 2/],
      [JSON.stringify({ ...tuningFor(), tunedAt: 'yesterday' }), /tunedAt/],
      [JSON.stringify({ ...tuningFor(), winner: { workers: 0, intraOpThreads: 2, name: '0x2' } }), /^malformed: winner: expected workers \(1 to 64\)/],
      [JSON.stringify({ ...tuningFor(), winner: { workers: 4, intraOpThreads: 1, name: '4x1' } }), /layouts: expected the winner's figures \(4x1\)/],
      [JSON.stringify({ ...tuningFor(), model: { path: 3 } }), /^malformed: model/],
      [JSON.stringify({ ...tuningFor(), machine: { ...tuningFor().machine, device: 'tpu' } }), /machine.device/],
      [JSON.stringify({ ...tuningFor(), ratios: { '2x1': 'fast' } }), /ratios/],
    ];
    for (const [text, reason] of cases) {
      const found = readTuning(fileWith(text), expectation());
      expect(found.status).toBe('ignored');
      expect(found.status === 'ignored' && found.reason).toMatch(reason);
    }
  });

  it('ignores a stale file: another model file or content, machine, device or onnxruntime', () => {
    const e = expectation();
    const cases: [ReturnType<typeof expectation>, RegExp][] = [
      [{ ...e, model: { ...e.model, path: '/elsewhere.onnx' } }, /^stale: measured on \/models\/m\/onnx\/model_buffered.onnx, not \/elsewhere.onnx/],
      [{ ...e, model: { ...e.model, fingerprint: 'sha256:bb' } }, /^stale: .*model_buffered.onnx changed since it was measured/],
      [{ ...e, model: { ...e.model, bytes: 1001 } }, /changed since it was measured/],
      [{ ...e, machine: { ...e.machine, cores: 4 } }, /^stale: measured on 2 cores, this machine has 4/],
      [{ ...e, machine: { ...e.machine, cpuFlags: ['avx2', 'avx512f', 'amx_int8'] } }, /^stale: measured on a CPU with avx2 avx512f of the matrix flags, this one has avx2 avx512f amx_int8/],
      [{ ...e, machine: { ...e.machine, device: 'cuda' } }, /^stale: measured on cpu, not cuda/],
      [{ ...e, onnxruntime: '1.31.0' }, /^stale: measured with onnxruntime-node 1.30.0, now 1.31.0/],
    ];
    const path = fileWith(JSON.stringify(tuningFor(e)));
    for (const [now, reason] of cases) {
      const found = readTuning(path, now);
      expect(found.status).toBe('ignored');
      expect(found.status === 'ignored' && found.reason).toMatch(reason);
    }
    // Flags in another order are the same CPU.
    expect(readTuning(path, { ...e, machine: { ...e.machine, cpuFlags: ['avx512f', 'avx2'] } }).status).toBe('tuned');
  });
});
