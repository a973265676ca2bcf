// Independent check of a model folder with transformers.js (the devDependency):
// tokenizes and greedily generates for the given prompts, one at a time and as one
// left-padded batch, and prints JSON { ids, tokens, batched } for a python caller to
// compare. Usage: node tools/models/check_transformersjs.mjs MODEL_DIR N_NEW PROMPT...
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';

const [dir, nNew, ...prompts] = process.argv.slice(2);
if (!dir || !nNew || prompts.length === 0) {
  console.error('usage: check_transformersjs.mjs MODEL_DIR N_NEW PROMPT...');
  process.exit(2);
}
const abs = path.resolve(dir);
env.allowRemoteModels = false;
env.localModelPath = path.dirname(abs) + path.sep;
const id = path.basename(abs);

const tokenizer = await AutoTokenizer.from_pretrained(id);
// TJS_DTYPE=q8 loads onnx/model_quantized.onnx instead of onnx/model.onnx.
const model = await AutoModelForCausalLM.from_pretrained(id, { dtype: process.env.TJS_DTYPE ?? 'fp32', device: 'cpu' });
const maxNewTokens = Number(nNew);

const ids = prompts.map((p) => Array.from(tokenizer(p).input_ids.data, Number));
const generated = [];
for (const p of prompts) {
  const inputs = tokenizer(p);
  const out = await model.generate({ ...inputs, max_new_tokens: maxNewTokens, min_new_tokens: maxNewTokens, do_sample: false });
  generated.push(Array.from(out.data, Number).slice(inputs.input_ids.dims[1]));
}
tokenizer.padding_side = 'left';
const batch = tokenizer(prompts, { padding: true });
const out = await model.generate({ ...batch, max_new_tokens: maxNewTokens, min_new_tokens: maxNewTokens, do_sample: false });
const width = batch.input_ids.dims[1];
const total = out.dims[1];
const flat = Array.from(out.data, Number);
const batched = prompts.map((_, b) => flat.slice(b * total + width, (b + 1) * total));
console.log(JSON.stringify({ ids, tokens: generated, batched }));
await model.dispose();
