// Independent check: our engine against transformers.js (a devDependency) on the same
// model files and prompts. transformers.js has its own generation loop, cache handling
// and padding, so agreement token for token is evidence that ours is right.
import { describe, expect, it } from 'vitest';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { join } from 'node:path';
import { TEST_MODELS, creakPrompts, inProcess, root } from './support/models.js';

env.allowRemoteModels = false;
env.localModelPath = join(root, 'test', 'fixtures', 'models') + '/';

const MAX_NEW = 20;

describe.each(TEST_MODELS)('%s: ours vs transformers.js', (model) => {
  it('tokenizes every CREAK prompt to the same ids', async () => {
    const theirs = await AutoTokenizer.from_pretrained(model);
    const { tokenizer } = await inProcess(model);
    const prompts = creakPrompts(600);
    for (const p of prompts) expect(tokenizer.encode(p)).toEqual(Array.from(theirs(p).input_ids.data as BigInt64Array, Number));
  });

  it('generates the same greedy tokens, alone and in our batch of 16', async () => {
    const theirTokenizer = await AutoTokenizer.from_pretrained(model);
    const theirModel = await AutoModelForCausalLM.from_pretrained(model, { dtype: 'fp32', device: 'cpu' });
    const { generator, tokenizer } = await inProcess(model);
    const prompts = creakPrompts(16, 200).map((p, i) => (i % 3 === 0 ? p.slice(0, 20 + i) : p));
    const ours = await generator.generate(prompts.map((p) => ({ prompt: p, ids: tokenizer.encode(p), options: { maxNewTokens: MAX_NEW, temperature: 0 } })));
    try {
      for (const [i, p] of prompts.entries()) {
        const inputs = theirTokenizer(p);
        const out = await theirModel.generate({ ...inputs, max_new_tokens: MAX_NEW, do_sample: false });
        const theirs = Array.from((out as { data: BigInt64Array }).data, Number).slice(inputs.input_ids.dims[1]);
        expect(Array.from(ours[i]!.tokens), `prompt ${i}`).toEqual(theirs);
        expect(ours[i]!.text).toBe(theirTokenizer.decode(theirs, { skip_special_tokens: true }));
      }
    } finally {
      await theirModel.dispose();
    }
  });
});
