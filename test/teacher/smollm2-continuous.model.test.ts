// Continuous batching on the default teacher's buffered file: chat-style TeacherLM prompts
// joining a running batch at different steps give, token for token, what each gives alone
// and in one static batch (greedy, with the default topology's decoding controls).
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildPrompt } from '../../src/teacher/prompts.js';
import { openSession } from '../../src/teacher/device.js';
import { describeModel } from '../../src/teacher/model-io.js';
import { BatchGenerator, type RowInput, type RowOutput } from '../../src/teacher/generate-batch.js';
import { ANNOTATION_KINDS } from '../../src/teacher/types.js';
import { loadModel } from './support/load-model.js';
import { CREAK_DEV } from '../support/creak.js';
import { SMOLLM2_DIR, smollm2Prerequisite } from '../support/smollm2.js';

const dir = SMOLLM2_DIR;
const present = smollm2Prerequisite('the SmolLM2 continuous-batching test') && existsSync(join(dir, 'onnx', 'model_buffered.onnx'));

describe.skipIf(!present)('SmolLM2-135M-Instruct, continuous batching (buffered fp32)', () => {
  it('gives every prompt joining a running batch the same tokens as alone and as one static batch', async () => {
    const model = loadModel(dir);
    const { session } = await openSession(model.files.onnxPath, { intraOpThreads: 1, device: 'cpu' }, ort);
    const io = describeModel(session.inputMetadata, session.outputMetadata, model.files.config);
    expect(io.cacheLayout).toBe('buffered');
    const generator = new BatchGenerator(session, io, model.tokenizer, ort.Tensor);
    const samples = readFileSync(CREAK_DEV, 'utf8').split('\n').slice(30, 33);
    const rows: RowInput[] = samples.flatMap((line) =>
      ANNOTATION_KINDS.map((kind, k) => {
        const prompt = buildPrompt(JSON.parse(line), kind, 'chat', model.chatTemplate);
        return { prompt, ids: model.tokenizer.encode(prompt), options: { maxNewTokens: 12 + 10 * k, temperature: 0, repetitionPenalty: 1.2, noRepeatNgramSize: 4 } };
      }),
    );
    const outputs = new Map<RowInput, RowOutput>();
    let boundary = 0;
    let joinedRunning = 0;
    const pending = [...rows];
    await generator.run((running) => {
      // One prompt every fourth step boundary.
      if (boundary++ % 4 !== 0 || pending.length === 0) return [];
      if (running > 0) joinedRunning++;
      const input = pending.shift()!;
      return [{ inputs: [input], done: ([out]) => outputs.set(input, out!), failed: (e) => { throw e; } }];
    });
    expect(joinedRunning).toBeGreaterThan(4);
    const staticBatch = await generator.generate(rows);
    for (const [i, row] of rows.entries()) {
      const [alone] = await generator.generate([row]);
      expect(Array.from(outputs.get(row)!.tokens), `prompt ${i}, continuous`).toEqual(Array.from(alone!.tokens));
      expect(Array.from(staticBatch[i]!.tokens), `prompt ${i}, static`).toEqual(Array.from(alone!.tokens));
    }
    await session.release();
  });
});
