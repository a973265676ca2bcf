// Prompt-lookup speculation on the default teacher's buffered file: chat-style TeacherLM
// prompts give, token for token, what plain greedy decoding gives, alone and batched, with
// and without the default topology's decoding controls, while drafts are accepted.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildPrompt } from '../../src/teacher/prompts.js';
import { openSession } from '../../src/teacher/device.js';
import { describeModel } from '../../src/teacher/model-io.js';
import { BatchGenerator, type RowInput } from '../../src/teacher/generate-batch.js';
import { ANNOTATION_KINDS } from '../../src/teacher/types.js';
import { loadModel } from './support/load-model.js';
import { CREAK_DEV } from '../support/creak.js';
import { SMOLLM2_DIR, smollm2Prerequisite } from '../support/smollm2.js';

const dir = SMOLLM2_DIR;
const present = smollm2Prerequisite('the SmolLM2 speculative-decoding test') && existsSync(join(dir, 'onnx', 'model_buffered.onnx'));

describe.skipIf(!present)('SmolLM2-135M-Instruct, prompt-lookup speculation (buffered fp32)', () => {
  it('gives every prompt the same greedy tokens as plain decoding, alone and batched, with and without the default controls', async () => {
    const model = loadModel(dir);
    const { session } = await openSession(model.files.onnxPath, { intraOpThreads: 1, device: 'cpu' }, ort);
    const io = describeModel(session.inputMetadata, session.outputMetadata, model.files.config);
    expect(io.logitsToKeepInput).toBe('logits_to_keep');
    const plain = new BatchGenerator(session, io, model.tokenizer, ort.Tensor);
    const speculative = new BatchGenerator(session, io, model.tokenizer, ort.Tensor, true, { tokens: 4, maxRows: 8 });
    const samples = readFileSync(CREAK_DEV, 'utf8').split('\n').slice(40, 42);
    let tokens = 0;
    let accepted = 0;
    for (const controls of [{}, { repetitionPenalty: 1.2, noRepeatNgramSize: 6 }]) {
      const rows: RowInput[] = samples.flatMap((line) =>
        ANNOTATION_KINDS.map((kind) => {
          const prompt = buildPrompt(JSON.parse(line), kind, 'chat', model.chatTemplate);
          return { prompt, ids: model.tokenizer.encode(prompt), options: { maxNewTokens: 40, temperature: 0, ...controls } };
        }),
      );
      const batched = await speculative.generate(rows);
      for (const [i, row] of rows.entries()) {
        const [want] = await plain.generate([row]);
        const [alone] = await speculative.generate([row]);
        expect(Array.from(alone!.tokens), `prompt ${i} alone, ${JSON.stringify(controls)}`).toEqual(Array.from(want!.tokens));
        expect(Array.from(batched[i]!.tokens), `prompt ${i} batched, ${JSON.stringify(controls)}`).toEqual(Array.from(want!.tokens));
        tokens += alone!.tokens.length;
        accepted += alone!.acceptedDrafts;
      }
    }
    // Explanations copy spans of their question: drafts are accepted (1.14 tokens per model
    // call on these prompts when written; the bench reports the rate).
    expect(tokens / (tokens - accepted)).toBeGreaterThan(1.05);
    await session.release();
  });
});
