/**
 * The buffered cache layout (our importer's fast files, see model-io.ts): the cache is one
 * buffer per tensor, [rows, kv_heads, capacity, head_dim], that this decoder keeps and
 * passes in as `past_key_values.*` (ONNX Runtime reads inputs in place). The model returns
 * only the new positions' keys and values, which are written into the buffer's next
 * column, so a step copies one position per row instead of the whole cache.
 *
 * Columns follow the Optimum layout exactly (left-padded prompts, then one column per
 * step, the same mask and position ids); columns beyond the last written one are masked
 * out. The buffer grows by GROW_COLUMNS when full; rows that finish are compacted away.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { ModelIO } from './model-io.js';
import type { CacheDecoder } from './cache-decoder.js';
import { leftPad } from './tokenizer.js';
import { gatherRows } from './tensor-rows.js';
import { withFloat16Bits } from './float16-feeds.js';

type TensorCtor = typeof OrtTensor;
type CacheData = Float32Array | Uint16Array;

/** Spare columns allocated at a time: masked-out columns cost attention work, growing costs a copy. */
const GROW_COLUMNS = 64;

export class BufferedDecoder implements CacheDecoder {
  /** One buffer per cache tensor, in `io.layers` order (key, value). */
  private buffers: CacheData[] = [];
  /** [rows, capacity + 1]: the buffer's columns, then the new token's (always 1). */
  private mask: BigInt64Array = new BigInt64Array(0);
  private rows = 0;
  private capacity = 0;
  /** Columns written so far. */
  private width = 0;
  /** Next position id per row: the number of real tokens so far. */
  private positions: number[] = [];

  constructor(
    private readonly session: InferenceSession,
    private readonly io: ModelIO,
    private readonly Tensor: TensorCtor,
    private readonly padId: number,
  ) {}

  async prefill(prompts: readonly ArrayLike<number>[], maxNewTokens: number): Promise<OrtTensor> {
    const { Tensor, io } = this;
    const padded = leftPad(prompts, this.padId);
    const batch = padded.rows;
    const width = padded.width;
    const feeds: Record<string, OrtTensor> = {
      input_ids: new Tensor('int64', padded.inputIds, [batch, width]),
      attention_mask: new Tensor('int64', padded.attentionMask, [batch, width]),
    };
    if (io.hasPositionIds) {
      const positions = new BigInt64Array(batch * width);
      for (let r = 0; r < batch; r++) {
        let seen = 0;
        for (let c = 0; c < width; c++) {
          if (padded.attentionMask[r * width + c] === 1n) seen++;
          positions[r * width + c] = BigInt(Math.max(seen - 1, 0));
        }
      }
      feeds.position_ids = new Tensor('int64', positions, [batch, width]);
    }
    const empty = io.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    for (const layer of io.layers) {
      feeds[layer.pastKey] = new Tensor(io.kvType, empty, [batch, io.kvHeads, 0, io.headDim]);
      feeds[layer.pastValue] = new Tensor(io.kvType, empty, [batch, io.kvHeads, 0, io.headDim]);
    }
    const out = await this.run(feeds);

    this.rows = batch;
    this.width = 0;
    this.positions = prompts.map((p) => p.length);
    // The last generated token is never fed back: maxNewTokens - 1 step columns at most.
    this.allocate(width + Math.min(Math.max(maxNewTokens - 1, 1), GROW_COLUMNS));
    for (let r = 0; r < batch; r++) this.mask.set(padded.attentionMask.subarray(r * width, (r + 1) * width), r * (this.capacity + 1));
    this.append(out, width);
    return out.logits!;
  }

  async step(tokens: readonly number[], keep: readonly number[]): Promise<OrtTensor> {
    const { Tensor, io } = this;
    if (keep.length < this.rows) this.compact(keep);
    if (this.width === this.capacity) this.allocate(this.capacity + GROW_COLUMNS);
    const batch = this.rows;
    const ids = new BigInt64Array(batch);
    const positions = new BigInt64Array(batch);
    for (let b = 0; b < batch; b++) {
      ids[b] = BigInt(tokens[b]!);
      positions[b] = BigInt(this.positions[b]!++);
    }
    const dims = [batch, io.kvHeads, this.capacity, io.headDim];
    const feeds: Record<string, OrtTensor> = {
      input_ids: new Tensor('int64', ids, [batch, 1]),
      attention_mask: new Tensor('int64', this.mask, [batch, this.capacity + 1]),
    };
    if (io.hasPositionIds) feeds.position_ids = new Tensor('int64', positions, [batch, 1]);
    io.layers.forEach((layer, i) => {
      feeds[layer.pastKey] = new Tensor(io.kvType, this.buffers[2 * i]! as Float32Array, dims);
      feeds[layer.pastValue] = new Tensor(io.kvType, this.buffers[2 * i + 1]! as Float32Array, dims);
    });
    const out = await this.run(feeds);
    const stride = this.capacity + 1;
    for (let b = 0; b < batch; b++) this.mask[b * stride + this.width] = 1n;
    this.append(out, 1);
    return out.logits!;
  }

  /** Copies the run's new keys and values ([rows, kv_heads, count, head_dim]) into columns width.. of the buffers. */
  private append(out: InferenceSession.OnnxValueMapType, count: number): void {
    const { io } = this;
    const span = count * io.headDim;
    const rowStride = this.capacity * io.headDim;
    const at = this.width * io.headDim;
    io.layers.forEach((layer, i) => {
      for (const [j, name] of [layer.presentKey, layer.presentValue].entries()) {
        const src = out[name]!.data as CacheData;
        const dst = this.buffers[2 * i + j]!;
        for (let r = 0; r < this.rows * io.kvHeads; r++) dst.set(src.subarray(r * span, (r + 1) * span), r * rowStride + at);
      }
    });
    this.width += count;
  }

  /** (Re)allocates buffers and mask with `capacity` columns, keeping the written ones. */
  private allocate(capacity: number): void {
    const { io } = this;
    const old = this.buffers;
    const oldCapacity = this.capacity;
    const oldMask = this.mask;
    this.capacity = capacity;
    const size = this.rows * io.kvHeads * capacity * io.headDim;
    this.buffers = io.layers.flatMap(() => [this.newBuffer(size), this.newBuffer(size)]);
    if (old.length > 0) {
      const used = this.width * io.headDim;
      for (const [k, src] of old.entries()) {
        for (let r = 0; r < this.rows * io.kvHeads; r++) {
          this.buffers[k]!.set(src.subarray(r * oldCapacity * io.headDim, r * oldCapacity * io.headDim + used), r * capacity * io.headDim);
        }
      }
    }
    this.mask = new BigInt64Array(this.rows * (capacity + 1));
    for (let r = 0; r < this.rows; r++) {
      if (oldMask.length > 0) this.mask.set(oldMask.subarray(r * (oldCapacity + 1), r * (oldCapacity + 1) + this.width), r * (capacity + 1));
      this.mask[r * (capacity + 1) + capacity] = 1n;
    }
  }

  private compact(keep: readonly number[]): void {
    this.buffers = this.buffers.map((buffer) => gatherRows(buffer, this.rows, keep));
    this.mask = gatherRows(this.mask, this.rows, keep);
    this.positions = keep.map((b) => this.positions[b]!);
    this.rows = keep.length;
  }

  private run(feeds: Record<string, OrtTensor>): Promise<InferenceSession.OnnxValueMapType> {
    if (this.io.kvType === 'float16') withFloat16Bits(feeds);
    return this.session.run(feeds);
  }

  private newBuffer(size: number): CacheData {
    return this.io.kvType === 'float16' ? new Uint16Array(size) : new Float32Array(size);
  }
}
