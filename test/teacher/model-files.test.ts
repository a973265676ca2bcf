// Which ONNX file each dtype loads, and the refusal that names the import flag when a
// folder has no int8 weights.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { onnxPathFor } from '../../src/teacher/model-files.js';

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
    expect(onnxPathFor(dir, { dtype: 'int8' })).toBe(join(dir, 'onnx', 'model_buffered_int8.onnx'));
    expect(onnxPathFor(dir, { dtype: 'fp32' })).toBe(join(dir, 'onnx', 'model_buffered.onnx'));
  });

  it('int8 falls back to an Optimum export\'s model_quantized.onnx', () => {
    withFiles('model.onnx', 'model_quantized.onnx');
    expect(onnxPathFor(dir, { dtype: 'int8' })).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
  });

  it('int8 without either file is refused, naming the import flag', () => {
    withFiles('model.onnx', 'model_buffered.onnx');
    let err: unknown;
    try {
      onnxPathFor(dir, { dtype: 'int8' });
    } catch (e) {
      err = e;
    }
    expect(isTeacherlmError(err, 'MODEL_INVALID')).toBe(true);
    expect((err as Error).message).toContain('onnx/model_buffered_int8.onnx');
    expect((err as { hint?: string }).hint).toContain('teacherlm model import smollm2 --int8');
  });

  it('an explicit onnxFile wins over dtype', () => {
    withFiles('model.onnx');
    expect(onnxPathFor(dir, { dtype: 'int8', onnxFile: 'model_quantized.onnx' })).toBe(join(dir, 'onnx', 'model_quantized.onnx'));
  });
});
