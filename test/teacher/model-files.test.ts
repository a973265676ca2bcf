// Which ONNX file each dtype loads, and the refusal that names the import flag when a
// folder has no int8 weights.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { onnxPathFor } from '../../src/teacher/model-files.js';

// CPU flags as readCpu() reports them: an AVX-512 VNNI Xeon, and an AVX2-only AMD EPYC.
const VNNI = ['avx2', 'fma', 'avx512f', 'avx512_vnni'];
const AVX2 = ['avx2', 'fma'];

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('onnxPathFor', () => {
  let dir: string;
  const withFiles = (...names: string[]) => {
    for (const name of names) writeFileSync(join(dir, 'onnx', name), 'x');
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'model-files-'));
    mkdirSync(join(dir, 'onnx'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('int8 loads the fast-layout int8 file when the folder has it', () => {
    withFiles('model.onnx', 'model_buffered.onnx', 'model_quantized.onnx', 'model_buffered_int8.onnx');
    expect(onnxPathFor(dir, { dtype: 'int8' }, VNNI)).toBe(join(dir, 'onnx', 'model_buffered_int8.onnx'));
    expect(onnxPathFor(dir, { dtype: 'fp32' }, AVX2)).toBe(join(dir, 'onnx', 'model_buffered.onnx'));
  });

  it('int8 on a CPU without VNNI or AMX loads the uint8-weight file, and refuses a folder that lacks it', () => {
    withFiles('model.onnx', 'model_buffered.onnx', 'model_quantized.onnx', 'model_buffered_int8.onnx');
    const err = thrown(() => onnxPathFor(dir, { dtype: 'int8' }, AVX2));
    expect(isTeacherlmError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toContain('onnx/model_buffered_int8_u8.onnx');
    expect((err as { hint?: string }).hint).toContain('--int8');
    expect(onnxPathFor(dir, { dtype: 'int8', onnxFile: 'model_buffered_int8.onnx' }, AVX2)).toBe(join(dir, 'onnx', 'model_buffered_int8.onnx'));
    withFiles('model_buffered_int8_u8.onnx');
    expect(onnxPathFor(dir, { dtype: 'int8' }, AVX2)).toBe(join(dir, 'onnx', 'model_buffered_int8_u8.onnx'));
    expect(onnxPathFor(dir, { dtype: 'int8' }, VNNI)).toBe(join(dir, 'onnx', 'model_buffered_int8.onnx'));
    expect(onnxPathFor(dir, { dtype: 'int8' }, [...AVX2, 'amx_int8'])).toBe(join(dir, 'onnx', 'model_buffered_int8.onnx'));
  });

  it('int8 on an AVX2 CPU still falls back to an Optimum export\'s model_quantized.onnx (MatMulNBits, no u8s8 GEMM)', () => {
    withFiles('model.onnx', 'model_quantized.onnx');
    expect(onnxPathFor(dir, { dtype: 'int8' }, AVX2)).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
  });

  it('int8 falls back to an Optimum export\'s model_quantized.onnx', () => {
    withFiles('model.onnx', 'model_quantized.onnx');
    expect(onnxPathFor(dir, { dtype: 'int8' }, VNNI)).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
  });

  it('int8 without either file is refused, naming the import flag', () => {
    withFiles('model.onnx', 'model_buffered.onnx');
    const err = thrown(() => onnxPathFor(dir, { dtype: 'int8' }, VNNI));
    expect(isTeacherlmError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toContain('onnx/model_buffered_int8.onnx');
    expect((err as { hint?: string }).hint).toContain('teacherlm model import smollm2 --int8');
  });

  it('an explicit onnxFile wins over dtype', () => {
    withFiles('model.onnx');
    expect(onnxPathFor(dir, { dtype: 'int8', onnxFile: 'model_quantized.onnx' })).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
  });
});
