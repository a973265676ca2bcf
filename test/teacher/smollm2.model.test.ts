// The default teacher: our engine against transformers.js on SmolLM2's own files,
// chat-style TeacherLM prompts, greedy. The model project's global setup imports the
// model when it is missing; skipped with the reason printed only where that failed.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { createEngine } from '../../src/teacher/create-engine.js';
import { buildPrompt } from '../../src/teacher/prompts.js';
import { loadModel } from './support/load-model.js';
import { root } from './support/models.js';
import { CREAK_DEV } from '../support/creak.js';
import { SMOLLM2_DIR, smollm2Prerequisite } from '../support/smollm2.js';

const dir = SMOLLM2_DIR;
const present = smollm2Prerequisite('the SmolLM2 comparison with transformers.js');

describe.skipIf(!present)('SmolLM2-135M-Instruct (fp32)', () => {
  it('generates the same greedy text as transformers.js for chat-style TeacherLM prompts', async () => {
    const model = loadModel(dir);
    const samples = readFileSync(CREAK_DEV, 'utf8').split('\n').slice(10, 13);
    const prompts = samples.map((l, i) => buildPrompt(JSON.parse(l), (['cot', 'mistakes', 'fundamentals'] as const)[i]!, 'chat', model.chatTemplate));
    const engine = await createEngine({ modelDir: dir, workers: 1, device: 'cpu' });
    const ours = await engine.generate(prompts.map((prompt) => ({ prompt, options: { maxNewTokens: 16, temperature: 0 } }))).finally(() => engine.close());

    env.allowRemoteModels = false;
    env.localModelPath = join(root, 'models') + '/';
    const tokenizer = await AutoTokenizer.from_pretrained('smollm2-135m-instruct');
    const theirs = await AutoModelForCausalLM.from_pretrained('smollm2-135m-instruct', { dtype: 'fp32', device: 'cpu' });
    try {
      for (const [i, prompt] of prompts.entries()) {
        // The chat template already holds its special tokens, as apply_chat_template assumes.
        const inputs = tokenizer(prompt, { add_special_tokens: false });
        expect(ours[i]!.promptTokens).toBe(inputs.input_ids.dims[1]);
        const out = (await theirs.generate({ ...inputs, max_new_tokens: 16, do_sample: false })) as { data: BigInt64Array };
        const ids = Array.from(out.data, Number).slice(inputs.input_ids.dims[1] as number);
        expect(ours[i]!.text).toBe(tokenizer.decode(ids, { skip_special_tokens: true }));
        expect(ours[i]!.generatedTokens).toBeGreaterThan(0);
      }
    } finally {
      await theirs.dispose();
    }
  }, 300_000);
});
