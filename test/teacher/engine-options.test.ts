import { describe, expect, it } from 'vitest';
import { resolveEngineOptions } from '../../src/teacher/engine-options.js';
import { onnxPathFor, type ModelDtype } from '../../src/teacher/model-files.js';

describe('engine options', () => {
  it('refuses a dtype that is only an inherited property name', () => {
    expect(() => resolveEngineOptions({ modelDir: 'models/x', dtype: 'toString' as ModelDtype })).toThrow(
      'dtype: expected one of fp32, fp16, int8, got "toString"',
    );
    expect(() => onnxPathFor('models/x', { dtype: 'constructor' as ModelDtype })).toThrow(
      'dtype: expected one of fp32, fp16, int8, got "constructor"',
    );
  });
});
