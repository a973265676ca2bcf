/**
 * The buffered cache layout (our importer's fast files, see model-io.ts): the cache is one
 * buffer per tensor, [rows, kv_heads, capacity, head_dim], that this decoder keeps and
 * passes in as `past_key_values.*` (ONNX Runtime reads inputs in place). The model returns
 * only the new positions' keys and values, which are written into the buffer, so a step
 * copies one position per row instead of the whole cache.
 *
 * Every row keeps its own columns: its tokens so far at columns 0..length-1, the rest
 * masked out (the attention mask covers the buffer's columns, then the new token's), and
 * its own position ids. So rows are independent of each other, and rows can join a running
 * batch (continuous batching): newcomers are prefilled apart, in calls of their own
 * (prompts of like lengths together, so little is padded: prefill-groups.ts), and their
 * cache is copied into free rows of the buffer, real columns only (left padding dropped).
 * A row that leaves is replaced by the last row, so leaving copies one row.
 * Capacity grows by GROW_COLUMNS when a row fills it and shrinks when long rows have left.
 * Where the graph takes `logits_to_keep`, {@link BufferedDecoder.verify} feeds several tokens
 * per row (a row's last token and its drafts, generate-batch.ts) and {@link
 * BufferedDecoder.rollback} takes the rejected ones out again: only the row's length and
 * mask move back, and the next call writes over their columns.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { ModelIO } from './model-io.js';
import type { CacheDecoder } from './cache-decoder.js';
import { leftPad } from './tokenizer.js';
import { withFloat16Bits } from './float16-feeds.js';
import { prefillGroups } from './prefill-groups.js';
import { TeacherlmError } from '../errors.js';

type TensorCtor = typeof OrtTensor;
type CacheData = Float32Array | Uint16Array;

/** Spare columns allocated at a time: masked-out columns cost attention work, growing costs a copy. */
const GROW_COLUMNS = 64;

export class BufferedDecoder implements CacheDecoder {
  readonly joinsRunning = true;
  /** One buffer per cache tensor, in `io.layers` order (key, value), for `rowCapacity` rows. */
  private buffers: CacheData[] = [];
  /** [rowCapacity, capacity + 1]: the buffer's columns, then the new token's (always 1). */
  private mask: BigInt64Array = new BigInt64Array(0);
  private rowCapacity = 0;
  private capacity = 0;
  /** Per row: tokens in its cache, which is also its next position id and next column. */
  private lengths: number[] = [];

  constructor(
    private readonly session: InferenceSession,
    private readonly io: ModelIO,
    private readonly Tensor: TensorCtor,
    private readonly padId: number,
  ) {}

  async join(prompts: readonly ArrayLike<number>[], maxNewTokens: number): Promise<OrtTensor> {
    const { Tensor } = this;
    const batch = prompts.length;
    const first = this.lengths.length;
    const width = Math.max(...Array.from(prompts, (p) => p.length));
    // The last generated token is never fed back: maxNewTokens - 1 step columns at most.
    const spare = Math.min(Math.max(maxNewTokens - 1, 1), GROW_COLUMNS);
    const columns = Math.max(this.capacity, width + spare);
    // Rows grow by doubling, so newcomers joining one by one reallocate rarely.
    const rowCapacity = first + batch > this.rowCapacity ? Math.max(first + batch, first > 0 ? 2 * this.rowCapacity : 0) : this.rowCapacity;
    if (rowCapacity > this.rowCapacity || columns > this.capacity) this.allocate(rowCapacity, columns);

    // Prompts of unlike lengths are prefilled in calls of like lengths (prefill-groups.ts),
    // each row's cache copied into its own row: the newcomers' rows follow input order.
    const groups = prefillGroups(Array.from(prompts, (p) => p.length));
    let logits: OrtTensor | undefined;
    let combined: CacheData | undefined;
    for (const group of groups) {
      const out = await this.prefill(group.map((r) => prompts[r]!));
      group.forEach((r, k) => this.place(out, k, group.length, prompts[r]!.length, first + r));
      const groupLogits = out.logits!;
      if (groups.length === 1) {
        logits = groupLogits;
        break;
      }
      // Each group's last-position logits go to its rows' places in one [batch, 1, vocab] tensor.
      const [, steps, vocab] = groupLogits.dims as [number, number, number];
      const data = groupLogits.data as CacheData;
      if (!combined) {
        combined = data instanceof Uint16Array ? new Uint16Array(batch * vocab) : new Float32Array(batch * vocab);
        logits = new Tensor(groupLogits.type as 'float32', combined as Float32Array, [batch, 1, vocab]);
      }
      group.forEach((r, k) => combined!.set(data.subarray((k * steps + steps - 1) * vocab, (k * steps + steps) * vocab), r * vocab));
    }
    const stride = this.capacity + 1;
    for (let r = 0; r < batch; r++) {
      const row = first + r;
      this.mask.fill(0n, row * stride, (row + 1) * stride);
      this.mask.fill(1n, row * stride, row * stride + prompts[r]!.length);
      this.mask[row * stride + this.capacity] = 1n;
      this.lengths.push(prompts[r]!.length);
    }
    return logits!;
  }

  /** One prefill call over `prompts`, left-padded to the longest, with an empty cache. */
  private prefill(prompts: readonly ArrayLike<number>[]): Promise<InferenceSession.OnnxValueMapType> {
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
    if (io.logitsToKeepInput) feeds[io.logitsToKeepInput] = this.keep(1);
    const empty = io.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    for (const layer of io.layers) {
      feeds[layer.pastKey] = new Tensor(io.kvType, empty, [batch, io.kvHeads, 0, io.headDim]);
      feeds[layer.pastValue] = new Tensor(io.kvType, empty, [batch, io.kvHeads, 0, io.headDim]);
    }
    return this.run(feeds);
  }

  /** Copies row `k` of a prefill of `rows` rows (its real `length` columns, left padding dropped) into buffer row `row`. */
  private place(out: InferenceSession.OnnxValueMapType, k: number, rows: number, length: number, row: number): void {
    const { io } = this;
    const span = io.headDim;
    io.layers.forEach((layer, i) => {
      for (const [j, name] of [layer.presentKey, layer.presentValue].entries()) {
        const src = out[name]!.data as CacheData;
        const width = src.length / (rows * io.kvHeads * span);
        const dst = this.buffers[2 * i + j]!;
        const skip = width - length;
        for (let h = 0; h < io.kvHeads; h++) {
          const from = ((k * io.kvHeads + h) * width + skip) * span;
          dst.set(src.subarray(from, from + length * span), (row * io.kvHeads + h) * this.capacity * span);
        }
      }
    });
  }

  step(tokens: readonly number[]): Promise<OrtTensor> {
    return this.verify(tokens.map((t) => [t]));
  }

  /** Whether the model returns logits for more than the last position (its `logits_to_keep` input). */
  get verifies(): boolean {
    return this.io.logitsToKeepInput !== undefined;
  }

  /**
   * Feeds `tokens[b]` (all of one width W) to row b at its next W positions, writing all W
   * columns into the cache; returns logits [rows, W, vocab], position i's predicting the
   * token after `tokens[b][i]`. W > 1 needs {@link verifies}; {@link rollback} then drops
   * the columns of rejected tokens.
   */
  async verify(tokens: readonly (readonly number[])[]): Promise<OrtTensor> {
    const { Tensor, io } = this;
    const batch = this.lengths.length;
    const width = tokens[0]!.length;
    if (width > 1 && !this.verifies) throw new TeacherlmError('INTERNAL', 'this model returns logits for the last position only (no logits_to_keep input)');
    const needed = Math.max(...this.lengths) + width;
    if (needed > this.capacity) this.allocate(this.rowCapacity, this.capacity + GROW_COLUMNS * Math.ceil((needed - this.capacity) / GROW_COLUMNS));
    const ids = new BigInt64Array(batch * width);
    const positions = new BigInt64Array(batch * width);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < width; i++) {
        ids[b * width + i] = BigInt(tokens[b]![i]!);
        positions[b * width + i] = BigInt(this.lengths[b]! + i);
      }
    }
    const stride = this.capacity + 1;
    const rowSize = io.kvHeads * this.capacity * io.headDim;
    const dims = [batch, io.kvHeads, this.capacity, io.headDim];
    let mask: BigInt64Array;
    if (width === 1) {
      // Views of the first `batch` rows: the spare rows are not run.
      mask = this.mask.subarray(0, batch * stride);
    } else {
      // The buffer's columns, then the W new ones (the graph's causal mask orders those).
      mask = new BigInt64Array(batch * (this.capacity + width));
      for (let b = 0; b < batch; b++) {
        mask.set(this.mask.subarray(b * stride, b * stride + this.capacity), b * (this.capacity + width));
        mask.fill(1n, b * (this.capacity + width) + this.capacity, (b + 1) * (this.capacity + width));
      }
    }
    const feeds: Record<string, OrtTensor> = {
      input_ids: new Tensor('int64', ids, [batch, width]),
      attention_mask: new Tensor('int64', mask, [batch, this.capacity + width]),
    };
    if (io.hasPositionIds) feeds.position_ids = new Tensor('int64', positions, [batch, width]);
    if (io.logitsToKeepInput) feeds[io.logitsToKeepInput] = this.keep(width);
    io.layers.forEach((layer, i) => {
      feeds[layer.pastKey] = new Tensor(io.kvType, this.buffers[2 * i]!.subarray(0, batch * rowSize) as Float32Array, dims);
      feeds[layer.pastValue] = new Tensor(io.kvType, this.buffers[2 * i + 1]!.subarray(0, batch * rowSize) as Float32Array, dims);
    });
    const out = await this.run(feeds);
    const span = io.headDim;
    io.layers.forEach((layer, i) => {
      for (const [j, name] of [layer.presentKey, layer.presentValue].entries()) {
        const src = out[name]!.data as CacheData;
        const dst = this.buffers[2 * i + j]!;
        for (let b = 0; b < batch; b++) {
          for (let h = 0; h < io.kvHeads; h++) {
            const from = (b * io.kvHeads + h) * width * span;
            dst.set(src.subarray(from, from + width * span), ((b * io.kvHeads + h) * this.capacity + this.lengths[b]!) * span);
          }
        }
      }
    });
    for (let b = 0; b < batch; b++) {
      this.mask.fill(1n, b * stride + this.lengths[b]!, b * stride + this.lengths[b]! + width);
      this.lengths[b]! += width;
    }
    return out.logits!;
  }

  /** Drops the last `drop[b]` columns of row b (rejected drafts): they are masked out and written over next. */
  rollback(drop: readonly number[]): void {
    const stride = this.capacity + 1;
    for (let b = 0; b < drop.length; b++) {
      if (drop[b]! <= 0) continue;
      this.lengths[b]! -= drop[b]!;
      this.mask.fill(0n, b * stride + this.lengths[b]!, b * stride + this.lengths[b]! + drop[b]!);
    }
  }

  private keep(count: number): OrtTensor {
    return new this.Tensor('int64', new BigInt64Array([BigInt(count)]), []);
  }

  remove(rows: readonly number[]): number[] {
    const order = this.lengths.map((_, i) => i);
    for (const row of [...rows].sort((a, b) => b - a)) {
      const last = this.lengths.length - 1;
      if (row !== last) {
        this.moveRow(last, row);
        order[row] = order[last]!;
      }
      order.pop();
      this.lengths.pop();
    }
    if (this.lengths.length === 0) this.release();
    else if (Math.max(...this.lengths) + 2 * GROW_COLUMNS < this.capacity) this.allocate(this.rowCapacity, Math.max(...this.lengths) + GROW_COLUMNS);
    return order;
  }

  /** Copies row `from`'s written columns (and mask, and length) over row `to`. */
  private moveRow(from: number, to: number): void {
    const { io } = this;
    const length = this.lengths[from]!;
    for (const buffer of this.buffers) {
      for (let h = 0; h < io.kvHeads; h++) {
        const src = (from * io.kvHeads + h) * this.capacity * io.headDim;
        buffer.copyWithin((to * io.kvHeads + h) * this.capacity * io.headDim, src, src + length * io.headDim);
      }
    }
    const stride = this.capacity + 1;
    this.mask.copyWithin(to * stride, from * stride, (from + 1) * stride);
    this.lengths[to] = length;
  }

  /** (Re)allocates buffers and mask for `rowCapacity` rows of `capacity` columns, keeping the rows' written columns. */
  private allocate(rowCapacity: number, capacity: number): void {
    const { io } = this;
    const old = this.buffers;
    const oldCapacity = this.capacity;
    const oldMask = this.mask;
    this.rowCapacity = rowCapacity;
    this.capacity = capacity;
    const size = rowCapacity * io.kvHeads * capacity * io.headDim;
    this.buffers = io.layers.flatMap(() => [this.newBuffer(size), this.newBuffer(size)]);
    const rows = this.lengths.length;
    for (const [k, src] of old.entries()) {
      for (let r = 0; r < rows * io.kvHeads; r++) {
        const from = r * oldCapacity * io.headDim;
        const used = Math.floor(r / io.kvHeads);
        this.buffers[k]!.set(src.subarray(from, from + this.lengths[used]! * io.headDim), r * capacity * io.headDim);
      }
    }
    this.mask = new BigInt64Array(rowCapacity * (capacity + 1));
    for (let r = 0; r < rows; r++) {
      this.mask.set(oldMask.subarray(r * (oldCapacity + 1), r * (oldCapacity + 1) + this.lengths[r]!), r * (capacity + 1));
      this.mask[r * (capacity + 1) + capacity] = 1n;
    }
  }

  private release(): void {
    this.buffers = [];
    this.mask = new BigInt64Array(0);
    this.rowCapacity = 0;
    this.capacity = 0;
  }

  private run(feeds: Record<string, OrtTensor>): Promise<InferenceSession.OnnxValueMapType> {
    if (this.io.kvType === 'float16') withFloat16Bits(feeds);
    return this.session.run(feeds);
  }

  private newBuffer(size: number): CacheData {
    return this.io.kvType === 'float16' ? new Uint16Array(size) : new Float32Array(size);
  }
}
