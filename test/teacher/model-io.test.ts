// Each MODEL_INVALID check of src/teacher/model-io.ts, on a real model folder in a temp dir:
// tiny-llama's configuration and tokenizer with a small ONNX file of a broken interface.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/teacher/create-engine.js';
import { modelDir } from './support/models.js';
import { onnxModel, type Interface } from './support/onnx-writer.js';

const temp = mkdtempSync(join(tmpdir(), 'model-io-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const cache = (elem: 'float32' = 'float32') => ({ elem, dims: ['batch', 2, 'past', 16] });
const inputs = (): Interface => ({
  input_ids: { elem: 'int64', dims: ['batch', 'seq'] },
  attention_mask: { elem: 'int64', dims: ['batch', 'total'] },
  'past_key_values.0.key': cache(),
  'past_key_values.0.value': cache(),
});
const outputs = (): Interface => ({
  logits: { elem: 'float32', dims: ['batch', 'seq', 768] },
  'present.0.key': cache(),
  'present.0.value': cache(),
});

let folders = 0;
/** A model folder whose onnx/model.onnx has this interface; `config` edits config.json. */
function folder(ins: Interface, outs: Interface, config: (c: Record<string, unknown>) => void = () => {}): string {
  const dir = join(temp, `model-${folders++}`);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const file of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) copyFileSync(join(modelDir('tiny-llama'), file), join(dir, file));
  const cfg = JSON.parse(readFileSync(join(modelDir('tiny-llama'), 'config.json'), 'utf8')) as Record<string, unknown>;
  config(cfg);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), onnxModel(ins, outs));
  return dir;
}

async function open(dir: string) {
  const engine = await createEngine({ modelDir: dir, workers: 1, intraOpThreads: 1, device: 'cpu' });
  await engine.close();
}

const without = (of: Interface, ...names: string[]): Interface => Object.fromEntries(Object.entries(of).filter(([n]) => !names.includes(n)));

describe('the model interface check (MODEL_INVALID)', () => {
  it('accepts the unbroken interface (so each case below fails for its own break)', async () => {
    await expect(open(folder(inputs(), outputs()))).resolves.toBeUndefined();
  });

  it.each([
    ['input_ids or attention_mask or logits is missing', () => folder(without(inputs(), 'attention_mask'), without(outputs(), 'logits')), /lacks attention_mask, logits \(output\); expected an Optimum decoder export/],
    ['a cache layer lacks one of its four tensors', () => folder(inputs(), without(outputs(), 'present.0.value')), /layer 0 of the KV cache is incomplete/],
    ['there is no KV cache', () => folder(without(inputs(), 'past_key_values.0.key', 'past_key_values.0.value'), without(outputs(), 'present.0.key', 'present.0.value')), /has no past_key_values inputs/, /--task text-generation-with-past/],
    ['the cache is not 4-D (old fused BLOOM layout)', () => folder({ ...inputs(), 'past_key_values.0.key': { elem: 'float32', dims: ['batch_heads', 16, 'past'] } }, outputs()), /past_key_values must be \[batch, kv_heads, seq, head_dim\], got \[batch_heads, 16, past\]/, /recent Optimum/],
    [
      'neither the model nor config.json tells the cache heads / head_dim',
      () =>
        folder({ ...inputs(), 'past_key_values.0.key': { elem: 'float32', dims: ['batch', 'heads', 'past', 'dim'] } }, outputs(), (c) => {
          for (const key of ['num_attention_heads', 'num_key_value_heads', 'head_dim']) delete c[key];
        }),
      /cannot tell the KV cache heads \/ head_dim/,
    ],
    ['the cache is not a tensor', () => folder({ ...inputs(), 'past_key_values.0.key': { ...cache(), sequence: true } }, outputs()), /past_key_values is not a tensor/],
    ['the cache is neither float32 nor float16', () => folder({ ...inputs(), 'past_key_values.0.key': { elem: 'float64', dims: ['batch', 2, 'past', 16] } }, outputs()), /past_key_values has type float64; float32 or float16 expected/],
  ] as [string, () => string, RegExp, RegExp?][])('rejects a model where %s', async (_case, make, message, hint) => {
    const err = await open(make()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_INVALID', retriable: false });
    expect((err as Error).message).toMatch(message);
    if (hint) expect((err as { hint?: string }).hint).toMatch(hint);
  });

  it('names the logits type too', async () => {
    await expect(open(folder(inputs(), { ...outputs(), logits: { elem: 'int64', dims: ['batch', 'seq', 768] } }))).rejects.toThrow(/logits has type int64/);
  });
});
