import { describe, expect, it } from 'vitest';
import { resolveEngineOptions } from '../../src/teacher/engine-options.js';
import { onnxPathFor, type ModelDtype } from '../../src/teacher/model-files.js';
import { AUTO_MAX_BATCH_SIZE, AUTO_STATIC_BATCH_SIZE } from '../../src/teacher/batch-size.js';
import { DEFAULT_PROMPT_LOOKUP } from '../../src/teacher/prompt-lookup.js';

describe('engine options', () => {
  it('refuses a dtype that is only an inherited property name', () => {
    expect(() => resolveEngineOptions({ modelDir: 'models/x', dtype: 'toString' as ModelDtype })).toThrow(
      'dtype: expected one of fp32, fp16, int8, got "toString"',
    );
    expect(() => onnxPathFor('models/x', { dtype: 'constructor' as ModelDtype })).toThrow(
      'dtype: expected one of fp32, fp16, int8, got "constructor"',
    );
  });

  it('batches continuously by default, with the measured batch size for auto, and validates both fields', () => {
    const base = { modelDir: 'models/x' };
    expect(resolveEngineOptions(base)).toMatchObject({ batching: 'continuous', maxBatchSize: AUTO_MAX_BATCH_SIZE });
    expect(AUTO_MAX_BATCH_SIZE).toBeGreaterThan(16);
    expect(resolveEngineOptions({ ...base, batching: 'static', maxBatchSize: 64 })).toMatchObject({ batching: 'static', maxBatchSize: 64 });
    // Closed batches stay on one worker to their end: auto keeps them smaller.
    expect(resolveEngineOptions({ ...base, batching: 'static' }).maxBatchSize).toBe(AUTO_STATIC_BATCH_SIZE);
    expect(AUTO_STATIC_BATCH_SIZE).toBeLessThan(AUTO_MAX_BATCH_SIZE);
    expect(resolveEngineOptions({ ...base, maxBatchSize: 'auto' }).maxBatchSize).toBe(AUTO_MAX_BATCH_SIZE);
    expect(() => resolveEngineOptions({ ...base, maxBatchSize: 0 })).toThrow('maxBatchSize: expected auto or an integer from 1 to 256, got 0');
    expect(() => resolveEngineOptions({ ...base, maxBatchSize: 'big' as never })).toThrow(/maxBatchSize: expected auto or an integer/);
    expect(() => resolveEngineOptions({ ...base, batching: 'dynamic' as never })).toThrow(/batching: expected one of continuous, static/);
  });

  it('speculates by prompt lookup by default, off with 0 draft tokens, and validates both fields', () => {
    const base = { modelDir: 'models/x' };
    expect(resolveEngineOptions(base).promptLookup).toEqual(DEFAULT_PROMPT_LOOKUP);
    expect(DEFAULT_PROMPT_LOOKUP.tokens).toBeGreaterThan(0);
    expect(resolveEngineOptions({ ...base, promptLookupTokens: 0, promptLookupMaxRows: 8 }).promptLookup).toEqual({ tokens: 0, maxRows: 8 });
    expect(() => resolveEngineOptions({ ...base, promptLookupTokens: -1 })).toThrow('promptLookupTokens: expected an integer from 0 to 16, got -1');
    expect(() => resolveEngineOptions({ ...base, promptLookupTokens: 2.5 })).toThrow('promptLookupTokens: expected an integer from 0 to 16, got 2.5');
    expect(() => resolveEngineOptions({ ...base, promptLookupMaxRows: 0 })).toThrow('promptLookupMaxRows: expected an integer from 1 to 1024, got 0');
    expect(() => resolveEngineOptions({ ...base, promptLookupMaxRows: '4' as never })).toThrow('promptLookupMaxRows: expected an integer from 1 to 1024, got "4"');
  });
});
