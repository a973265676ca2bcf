// Test models (committed under test/fixtures/models) and an in-process generator on them.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadModelFiles, type ModelDtype } from '../../../src/teacher/model-files.js';
import { ModelTokenizer } from '../../../src/teacher/tokenizer.js';
import { openSession } from '../../../src/teacher/device.js';
import { describeModel } from '../../../src/teacher/model-io.js';
import { BatchGenerator } from '../../../src/teacher/generate-batch.js';
import { buildRawPrompt } from '../../../src/teacher/prompts.js';
import { ANNOTATION_KINDS } from '../../../src/teacher/types.js';
import { CREAK_DEV } from '../../support/creak.js';

export const root = join(import.meta.dirname, '..', '..', '..');
export const TEST_MODELS = ['tiny-llama', 'tiny-bloom'] as const;
export const modelDir = (name: string): string => join(root, 'test', 'fixtures', 'models', name);

/** `onnxFile` picks a file under onnx/; by default the engine's choice for `dtype` (the fast layout when present). */
export async function inProcess(
  name: string,
  wrap?: (s: ort.InferenceSession) => ort.InferenceSession,
  splitPrefill = true,
  dtype: ModelDtype = 'fp32',
  onnxFile?: string,
) {
  const files = loadModelFiles(modelDir(name), { dtype, onnxFile });
  const tokenizer = new ModelTokenizer(files);
  const { session } = await openSession(files.onnxPath, { intraOpThreads: 1, device: 'cpu' }, ort);
  const io = describeModel(session.inputMetadata, session.outputMetadata, files.config);
  const generator = new BatchGenerator(wrap ? wrap(session) : session, io, tokenizer, ort.Tensor, splitPrefill);
  return { files, tokenizer, session, io, generator };
}

/** TeacherLM prompts from the CREAK dev set (wrapping around at its end), cycling through the three kinds. */
export function creakPrompts(count: number, offset = 0): string[] {
  const lines = readFileSync(CREAK_DEV, 'utf8').trimEnd().split('\n');
  return Array.from({ length: count }, (_, i) => {
    const row = JSON.parse(lines[(offset + i) % lines.length]!) as { question: string; answer: string };
    return buildRawPrompt(row, ANNOTATION_KINDS[i % 3]!);
  });
}
