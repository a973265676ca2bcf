// The continuation scorer against transformers.js (an independent forward pass over the
// whole sequence) on the tiny models, in both cache layouts, in one batch of contexts and
// continuations of different lengths.
import { describe, expect, it } from 'vitest';
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor } from '@huggingface/transformers';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createContinuationScorer, type ContinuationRequest } from '../../src/teacher/continuation-scorer.js';
import { TEST_MODELS, creakPrompts, modelDir, root } from './support/models.js';

env.allowRemoteModels = false;
env.localModelPath = join(root, 'test', 'fixtures', 'models') + '/';

/** Their log-likelihood of the continuation: log-softmax at each of its positions, summed. */
async function theirScore(model: string, r: ContinuationRequest): Promise<number> {
  const tokenizer = await AutoTokenizer.from_pretrained(model);
  const lm = await AutoModelForCausalLM.from_pretrained(model, { dtype: 'fp32', device: 'cpu' });
  try {
    const whole = Array.from(tokenizer(r.context + r.continuation).input_ids.data as BigInt64Array, Number);
    const alone = Array.from(tokenizer(r.context).input_ids.data as BigInt64Array, Number);
    let split = 0;
    while (split < alone.length && alone[split] === whole[split]) split++;
    const inputs = tokenizer(r.context + r.continuation);
    const { logits } = (await lm(inputs)) as { logits: Tensor };
    const [, , vocab] = logits.dims as [number, number, number];
    const data = logits.data as Float32Array;
    let sum = 0;
    for (let t = split; t < whole.length; t++) {
      const row = data.subarray((t - 1) * vocab, t * vocab);
      const max = Math.max(...row);
      const z = row.reduce((s, x) => s + Math.exp(x - max), 0);
      sum += row[whole[t]!]! - max - Math.log(z);
    }
    return sum;
  } finally {
    await lm.dispose();
  }
}

const REQUESTS: ContinuationRequest[] = [
  ...creakPrompts(3, 40).map((p) => ({ context: `${p.slice(0, 120)} The answer is (`, continuation: 'A' })),
  { context: creakPrompts(1, 7)[0]!, continuation: ' Soup is mostly water, so it is a liquid.' },
  { context: 'Q: Is the sky green? A: The answer is (', continuation: 'B) False' },
];

describe.each(TEST_MODELS)('%s: continuation log-likelihoods', (model) => {
  const layouts = ['model.onnx', 'model_buffered.onnx'].filter((f) => existsSync(join(modelDir(model), 'onnx', f)));
  it.each(layouts)('equal transformers.js summed log-probabilities, batched, with %s', async (onnxFile) => {
    const scorer = await createContinuationScorer({ modelDir: modelDir(model), onnxFile });
    try {
      const ours = await scorer.score(REQUESTS);
      const alone = await scorer.score([REQUESTS[3]!]);
      expect(alone[0]).toBeCloseTo(ours[3]!, 3);
      for (const [i, r] of REQUESTS.entries()) {
        expect(ours[i]!).toBeLessThan(0);
        expect(ours[i]!, `request ${i}`).toBeCloseTo(await theirScore(model, r), 2);
      }
    } finally {
      await scorer.close();
    }
  });
});
