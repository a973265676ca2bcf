// tools/models/check_test_models.py in the tools' venv: the tiny test models under
// test/fixtures/models against a numpy forward pass (the reference maths), padded
// batches against single rows, transformers.js (node_modules) on the same prompts, and
// tiny-llama's fp16 and int8 variants against its fp32 logits.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { venvPython } from '../../src/teacher/model-import.js';
import { u8s8Saturates } from '../../src/teacher/int8-kernels.js';
import { readCpu } from '../../src/teacher/tuning/cpu-flags.js';
import { PROJECT_DIR, venvPrerequisite } from '../support/smollm2.js';

const ready = venvPrerequisite('tools/models/check_test_models.py');

describe.skipIf(!ready)('tools/models/check_test_models.py', () => {
  it('finds both test models equal to the numpy reference and to transformers.js, and the variants close to fp32', () => {
    const res = spawnSync(venvPython(PROJECT_DIR), [join(PROJECT_DIR, 'tools', 'models', 'check_test_models.py')], {
      cwd: PROJECT_DIR,
      encoding: 'utf8',
      timeout: 590_000,
    });
    expect(res.status, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('OK');
    const results = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(results.map((r) => r.model)).toEqual(['tiny-llama', 'tiny-bloom']);
    for (const r of results) {
      expect(r).toMatchObject({
        transformersjs_same_ids: true,
        transformersjs_same_greedy: true,
        transformersjs_batched_same_greedy: true,
      });
      expect(r.max_abs_err_vs_numpy_reference).toBeLessThan(1e-3);
      expect(r.max_abs_err_padded_prefill).toBeLessThan(1e-4);
      expect(r.max_abs_err_padded_step).toBeLessThan(1e-4);
    }
    expect(results[0]!.fp16_max_abs_err_vs_fp32).toBeTypeOf('number');
    expect(results[0]!.int8_top1_agreement).toBeGreaterThanOrEqual(0.8);
    // The uint8-weight recipe is exact on every CPU; the int8-weight one only with VNNI or AMX,
    // where it must equal the uint8 one (elsewhere the script says why it was not checked).
    expect(results[0]!.int8_recipe_u8_top1_agreement).toBeGreaterThanOrEqual(0.8);
    expect(results[0]!.int8_recipe_u8_batch_max_abs_err).toBeLessThan(1e-4);
    // The int8 LM head's top logits recomputed in fp32: the fp32 head's next token and logit.
    expect(results[0]!.int8_recipe_head_same_top1_as_fp32_head).toBe(1);
    expect(results[0]!.int8_recipe_head_top1_logit_max_abs_err).toBeLessThan(1e-4);
    if (u8s8Saturates(readCpu().flags)) {
      expect(results[0]!.int8_recipe_s8).toMatch(/saturates/);
    } else {
      expect(results[0]!.int8_recipe_top1_agreement).toBeGreaterThanOrEqual(0.8);
      expect(results[0]!.int8_recipe_batch_max_abs_err).toBeLessThan(1e-4);
      expect(results[0]!.int8_recipe_max_abs_err_u8_vs_s8).toBeLessThanOrEqual(1e-5);
    }
    // The variants: 7-bit weights (exact on u8s8 everywhere; the s8 recipe agrees at 50% where it saturates), symmetric rows, two levels of each side.
    for (const kind of ['recipe_s7', 'recipe_symmetric', 'recipe_two_level']) {
      expect(results[0]![`int8_${kind}_top1_agreement`]).toBeGreaterThanOrEqual(0.8);
      // Two levels re-round a row whose first rounding fp32's own batch noise flipped (check_test_models.py).
      expect(results[0]![`int8_${kind}_batch_max_abs_err`]).toBeLessThan(kind === 'recipe_two_level' ? 1e-3 : 1e-4);
    }
    expect(results[0]!.int8_mixed_top1_agreement).toBeGreaterThanOrEqual(0.8);
    expect(results[0]!.int8_mixed_batch_max_abs_err).toBeLessThan(1e-4);
  });
});
