// One decode step in onnxruntime-node: the buffered graph (the engine's layout: the cache
// buffer read in place, only the new keys and values out) against the GroupQueryAttention
// graph of gqa_experiment.py, whose cache buffer is past and present at once: the present
// outputs are passed to run() as preallocated tensors over the same memory, so ORT writes the
// new column in place. Median of --rounds interleaved rounds, one thread, every row 60 tokens.
// A variant file named b+* (the buffered layout with fewer ops) is fed as the buffered one.
//
//   node tools/models/gqa_node_step.mjs [DIR] [VARIANT_FILE] [ROUNDS]   (DIR: gqa_experiment.py's --tmp)
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const [dir = '/tmp/batch-models', gqaFile = 'gqa+qkv.onnx', rounds = '7'] = process.argv.slice(2);
const variantInPlace = !gqaFile.startsWith('b+');
const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
const buffered = await ort.InferenceSession.create(join(dir, 'buffered.onnx'), options);
const gqa = await ort.InferenceSession.create(join(dir, gqaFile), options);
const KV = 3, D = 64, LAYERS = 30, LENGTH = 60;

function feedsFor(batch, cap, inPlace) {
  const feeds = { input_ids: new ort.Tensor('int64', new BigInt64Array(batch).fill(5n), [batch, 1]) };
  const mask = new BigInt64Array(batch * (cap + 1));
  for (let b = 0; b < batch; b++) {
    mask.fill(1n, b * (cap + 1), b * (cap + 1) + LENGTH);
    mask[b * (cap + 1) + cap] = 1n;
  }
  feeds.attention_mask = new ort.Tensor('int64', mask, [batch, cap + 1]);
  if (!inPlace) {
    // The buffered layout's logits for the last position only (its builder's `logits_to_keep`).
    feeds.logits_to_keep = new ort.Tensor('int64', new BigInt64Array([1n]), []);
  }
  if (!inPlace) feeds.position_ids = new ort.Tensor('int64', new BigInt64Array(batch).fill(BigInt(LENGTH)), [batch, 1]);
  const fetches = inPlace ? { logits: null } : undefined;
  for (let i = 0; i < LAYERS; i++) {
    for (const kind of ['key', 'value']) {
      const buffer = new Float32Array(batch * KV * cap * D).fill(0.01);
      feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', buffer, [batch, KV, cap, D]);
      if (inPlace) fetches[`present.${i}.${kind}`] = new ort.Tensor('float32', buffer, [batch, KV, cap, D]);
    }
  }
  return { feeds, fetches };
}

const cases = [];
for (const [batch, cap] of [[1, 84], [16, 84], [16, 148]]) {
  cases.push({ name: `buffered@${batch}/${cap}`, session: buffered, batch, ...feedsFor(batch, cap, false) });
  cases.push({ name: `variant@${batch}/${cap}`, session: gqa, batch, ...feedsFor(batch, cap, variantInPlace) });
}
let writtenInPlace, presentIsCallerBuffer;
for (const c of cases) {
  const buffer = c.feeds['past_key_values.0.key'].data;
  const newColumn = LENGTH * D; // row 0, head 0, the new token's column
  buffer[newColumn] = -1;
  const out = await c.session.run(c.feeds, c.fetches);
  if (!c.fetches) continue;
  // Did ORT write the new column into the caller's buffer, and is the returned tensor that buffer or a copy?
  writtenInPlace = buffer[newColumn] !== -1 && buffer[newColumn] === out['present.0.key'].data[newColumn];
  presentIsCallerBuffer = out['present.0.key'].data.buffer === buffer.buffer;
}
const times = Object.fromEntries(cases.map((c) => [c.name, []]));
for (let round = 0; round < Number(rounds); round++) {
  for (const c of cases) {
    const reps = c.batch === 1 ? 8 : 3;
    const start = performance.now();
    for (let k = 0; k < reps; k++) await c.session.run(c.feeds, c.fetches);
    times[c.name].push((performance.now() - start) / reps);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, +median(v).toFixed(2)]));
const speedup = Object.fromEntries(
  Object.keys(ms).filter((k) => k.startsWith('variant')).map((k) => [k, +(ms[k.replace('variant', 'buffered')] / ms[k]).toFixed(3)]),
);
console.log(JSON.stringify({ variant: gqaFile, onnxruntimeNode: ort.env.versions?.node ?? 'see package.json', writtenInPlace, presentIsCallerBuffer, msPerStep: ms, speedup, loadavg: loadavg().map((x) => +x.toFixed(2)) }));
