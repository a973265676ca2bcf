// The imported default teacher against llama.cpp's golden continuations
// (test/fixtures/smollm2-golden.json, made by tools/models/verify_llamacpp.py on an F32
// copy of the same GGUF). The model project's global setup imports the model when it is
// missing, so every `npm test` checks that the converter still reproduces llama.cpp token
// for token.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../src/teacher/create-engine.js';
import { loadModel } from './support/load-model.js';
import { root } from './support/models.js';
import { SMOLLM2_DIR, smollm2Prerequisite } from '../support/smollm2.js';

interface GoldenCase {
  id: string;
  prompt: string;
  prompt_ids: number[];
  ids: number[];
  text: string;
  finish_reason: 'length' | 'eos';
}
interface Golden {
  max_new_tokens: number;
  onnx_file: string;
  cases: GoldenCase[];
}

const golden = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'smollm2-golden.json'), 'utf8')) as Golden;
const dir = SMOLLM2_DIR;
const present = smollm2Prerequisite('the SmolLM2 golden tests against llama.cpp');

describe.skipIf(!present)('SmolLM2-135M-Instruct against llama.cpp golden continuations', () => {
  it('tokenizes every golden prompt to llama.cpp ids', () => {
    const { tokenizer } = loadModel(dir);
    for (const c of golden.cases) expect(tokenizer.encode(c.prompt), c.id).toEqual(c.prompt_ids);
  });

  it('reproduces every greedy continuation, batched', async () => {
    const { tokenizer } = loadModel(dir);
    const engine = await createEngine({ modelDir: dir, workers: 1, device: 'cpu' });
    try {
      const results = await engine.generate(
        golden.cases.map((c) => ({ prompt: c.prompt, options: { maxNewTokens: golden.max_new_tokens, temperature: 0 } })),
      );
      let identical = 0;
      for (const [i, c] of golden.cases.entries()) {
        const ours = results[i]!;
        expect(ours.promptTokens, c.id).toBe(c.prompt_ids.length);
        if (ours.text === tokenizer.decode(c.ids) && ours.generatedTokens === c.ids.length) identical += 1;
        else console.warn(`smollm2-golden: ${c.id} differs\n  ours:     ${JSON.stringify(ours.text)}\n  llama.cpp: ${JSON.stringify(c.text)}`);
      }
      // fp32 against llama.cpp's fp32 arithmetic: every continuation, all 32 tokens.
      expect(identical).toBe(golden.cases.length);
    } finally {
      await engine.close();
    }
  }, 600_000);
});
