import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { llamaFlopsPerToken, matmulModel, measureMatmul } from '../../bench/compute-limit.js';

const SMOLLM2_135M = { hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64, vocab_size: 49152 };

describe('matmul FLOPs per token of a Llama config', () => {
  it("counts SmolLM2-135M's weights: its published 134,515,008 parameters less its 61 RMSNorm vectors", () => {
    const flops = llamaFlopsPerToken(SMOLLM2_135M);
    const norms = (2 * SMOLLM2_135M.num_hidden_layers + 1) * SMOLLM2_135M.hidden_size;
    expect(flops.generated / 2 + norms).toBe(134_515_008);
    // A prompt token skips the LM head (the tied embedding table).
    expect((flops.generated - flops.prompt) / 2).toBe(SMOLLM2_135M.vocab_size * SMOLLM2_135M.hidden_size);
  });

  it('takes head_dim and the key-value heads from the attention heads when absent', () => {
    const { num_key_value_heads: _kv, head_dim: _hd, ...mha } = SMOLLM2_135M;
    const perLayer = 4 * 576 * 576 + 3 * 576 * 1536;
    expect(llamaFlopsPerToken(mha).prompt).toBe(2 * 30 * perLayer);
  });

  it('names a missing or bad field', () => {
    expect(() => llamaFlopsPerToken({ ...SMOLLM2_135M, hidden_size: 0 })).toThrow(/hidden_size: expected a positive integer, got 0/);
    expect(() => llamaFlopsPerToken({ ...SMOLLM2_135M, vocab_size: undefined as unknown as number })).toThrow(/vocab_size/);
  });
});

describe('the MatMul model', () => {
  it('runs in onnxruntime and multiplies by its constant weights', async () => {
    const [m, k, n] = [3, 4, 5];
    const b = Float32Array.from({ length: k * n }, (_, i) => i - 7);
    const a = Float32Array.from({ length: m * k }, (_, i) => (i % 5) - 2);
    const session = await ort.InferenceSession.create(matmulModel(m, k, n, b));
    const out = (await session.run({ a: new ort.Tensor('float32', a, [m, k]) })).c!;
    await session.release();
    const expected = Array.from({ length: m * n }, (_, idx) => {
      const [i, j] = [Math.floor(idx / n), idx % n];
      let sum = 0;
      for (let x = 0; x < k; x++) sum += a[i * k + x]! * b[x * n + j]!;
      return sum;
    });
    expect(out.dims).toEqual([m, n]);
    expect(Array.from(out.data as Float32Array)).toEqual(expected);
  });

  it('refuses weights of the wrong size', () => {
    expect(() => matmulModel(2, 3, 4, new Float32Array(11))).toThrow(/weights: expected 12 values for \[3, 4\], got 11/);
  });

  it('measures a rate for its shape and thread count', async () => {
    const rate = await measureMatmul(ort, [8, 16, 32], 1, { rounds: 1, minMs: 1 });
    expect(rate).toMatchObject({ shape: [8, 16, 32], threads: 1 });
    expect(rate.gflopsPerSec).toBeGreaterThan(0);
  });
});
