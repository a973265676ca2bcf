/**
 * The Optimum cache layout: a left-padded prefill, then each step feeds `present.*` back
 * as `past_key_values.*` (ONNX Runtime returns a new, one-position-longer tensor each
 * step) with a growing attention mask. Finished rows' cache and mask rows are dropped.
 * Batches are static: rows join only an empty batch (other people's exports keep working;
 * continuous batching needs the buffered layout).
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { ModelIO } from './model-io.js';
import type { CacheDecoder } from './cache-decoder.js';
import { leftPad } from './tokenizer.js';
import { gatherRows, sliceColumns, type TypedArray } from './tensor-rows.js';
import { withFloat16Bits } from './float16-feeds.js';
import { TeacherlmError } from '../errors.js';

type TensorCtor = typeof OrtTensor;
type Outputs = InferenceSession.OnnxValueMapType;

export class OptimumDecoder implements CacheDecoder {
  readonly joinsRunning = false;
  private readonly presentNames: string[];
  /** `use_cache_branch` / `logits_to_keep` feeds, built once (ORT does not write to inputs). */
  private readonly prefillBranch: Record<string, OrtTensor> = {};
  private readonly stepBranch: Record<string, OrtTensor> = {};
  private out: Outputs = {};
  private mask: BigInt64Array = new BigInt64Array(0);
  private width = 0;
  /** Next position id per row: the number of real tokens so far. */
  private positions: number[] = [];
  /** Rows of the last run that the next step keeps (set by {@link remove}). */
  private keep: number[] | undefined;

  /**
   * @param splitPrefill run the prefill as two calls so logits are computed for the last
   *   position only (see {@link OptimumDecoder.prefill}).
   */
  constructor(
    private readonly session: InferenceSession,
    private readonly io: ModelIO,
    private readonly Tensor: TensorCtor,
    private readonly padId: number,
    private readonly splitPrefill: boolean,
  ) {
    this.presentNames = io.layers.flatMap((l) => [l.presentKey, l.presentValue]);
    if (io.hasUseCacheBranch) {
      this.prefillBranch.use_cache_branch = new Tensor('bool', new Uint8Array([0]), [1]);
      this.stepBranch.use_cache_branch = new Tensor('bool', new Uint8Array([1]), [1]);
    }
    if (io.logitsToKeepInput) {
      const one = new Tensor('int64', new BigInt64Array([1n]), []);
      this.prefillBranch[io.logitsToKeepInput] = one;
      this.stepBranch[io.logitsToKeepInput] = one;
    }
  }

  /**
   * Left-padded prompts, positions = cumsum(mask) - 1 clipped at 0. Split in two (all
   * columns but the last, fetching only the cache; then the last column) so the logits,
   * needed for the last position only, are not computed and copied out for every prompt
   * position: a [rows, width, vocab] tensor is most of the prefill's output and a fifth of
   * its compute on small models.
   */
  async join(prompts: readonly ArrayLike<number>[]): Promise<OrtTensor> {
    const { Tensor, io } = this;
    if (this.positions.length > 0) throw new TeacherlmError('INTERNAL', 'OptimumDecoder: rows join an empty batch only');
    this.keep = undefined;
    const padded = leftPad(prompts, this.padId);
    const batch = padded.rows;
    const width = padded.width;
    const mask = padded.attentionMask;
    const ids = padded.inputIds;
    let positions: BigInt64Array | undefined;
    if (io.hasPositionIds) {
      positions = new BigInt64Array(batch * width);
      for (let r = 0; r < batch; r++) {
        let seen = 0;
        for (let c = 0; c < width; c++) {
          if (mask[r * width + c] === 1n) seen++;
          positions[r * width + c] = BigInt(Math.max(seen - 1, 0));
        }
      }
    }
    this.mask = mask;
    this.width = width;
    this.positions = prompts.map((p) => p.length);

    const noPast = io.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    const feeds: Record<string, OrtTensor> = {};
    for (const layer of io.layers) {
      feeds[layer.pastKey] = new Tensor(io.kvType, noPast, [batch, io.kvHeads, 0, io.headDim]);
      feeds[layer.pastValue] = new Tensor(io.kvType, noPast, [batch, io.kvHeads, 0, io.headDim]);
    }
    const head = this.splitPrefill && width >= 2 ? width - 1 : width;
    feeds.input_ids = new Tensor('int64', sliceColumns(ids, batch, width, 0, head), [batch, head]);
    feeds.attention_mask = new Tensor('int64', sliceColumns(mask, batch, width, 0, head), [batch, head]);
    if (positions) feeds.position_ids = new Tensor('int64', sliceColumns(positions, batch, width, 0, head), [batch, head]);
    Object.assign(feeds, this.prefillBranch);
    if (head === width) return this.logits(await this.run(feeds));

    const cache = await this.run(feeds, this.presentNames);
    const last: Record<string, OrtTensor> = {
      input_ids: new Tensor('int64', sliceColumns(ids, batch, width, head, width), [batch, 1]),
      attention_mask: new Tensor('int64', mask, [batch, width]),
    };
    if (positions) last.position_ids = new Tensor('int64', sliceColumns(positions, batch, width, head, width), [batch, 1]);
    for (const layer of io.layers) {
      last[layer.pastKey] = cache[layer.presentKey]!;
      last[layer.pastValue] = cache[layer.presentValue]!;
    }
    Object.assign(last, this.stepBranch);
    return this.logits(await this.run(last));
  }

  /** Speculation needs the buffered layout's rollback; an Optimum cache grows by concatenation. */
  readonly verifies = false;

  verify(tokens: readonly (readonly number[])[]): Promise<OrtTensor> {
    if (tokens.some((t) => t.length !== 1)) throw new TeacherlmError('INTERNAL', 'the Optimum layout feeds one token per row and step');
    return this.step(tokens.map((t) => t[0]!));
  }

  rollback(drop: readonly number[]): void {
    if (drop.some((d) => d > 0)) throw new TeacherlmError('INTERNAL', 'the Optimum layout keeps every token it was fed');
  }

  remove(rows: readonly number[]): number[] {
    const leaving = new Set(rows);
    const view = this.keep ?? this.positions.map((_, i) => i);
    const order = view.map((_, i) => i).filter((i) => !leaving.has(i));
    this.keep = order.map((i) => view[i]!);
    if (this.keep.length === 0) {
      this.positions = [];
      this.keep = undefined;
    }
    return order;
  }

  async step(tokens: readonly number[]): Promise<OrtTensor> {
    const { Tensor, io, out } = this;
    const rows = this.positions.length;
    const keep = this.keep ?? this.positions.map((_, i) => i);
    this.keep = undefined;
    const shrink = keep.length < rows;
    const next: Record<string, OrtTensor> = {};
    for (const layer of io.layers) {
      next[layer.pastKey] = this.keepRows(out[layer.presentKey]!, rows, keep, shrink);
      next[layer.pastValue] = this.keepRows(out[layer.presentValue]!, rows, keep, shrink);
    }
    const width = this.width;
    const mask = shrink ? gatherRows(this.mask, rows, keep) : this.mask;
    if (shrink) this.positions = keep.map((b) => this.positions[b]!);
    const batch = keep.length;

    // The mask grows by one real column per step.
    const grown = new BigInt64Array(batch * (width + 1));
    for (let b = 0; b < batch; b++) {
      grown.set(mask.subarray(b * width, (b + 1) * width), b * (width + 1));
      grown[b * (width + 1) + width] = 1n;
    }
    this.mask = grown;
    this.width = width + 1;
    const ids = new BigInt64Array(batch);
    const stepPositions = new BigInt64Array(batch);
    for (let b = 0; b < batch; b++) {
      ids[b] = BigInt(tokens[b]!);
      stepPositions[b] = BigInt(this.positions[b]!++);
    }
    next.input_ids = new Tensor('int64', ids, [batch, 1]);
    next.attention_mask = new Tensor('int64', grown, [batch, width + 1]);
    if (io.hasPositionIds) next.position_ids = new Tensor('int64', stepPositions, [batch, 1]);
    Object.assign(next, this.stepBranch);
    return this.logits(await this.run(next));
  }

  private run(feeds: Record<string, OrtTensor>, fetches?: string[]): Promise<Outputs> {
    if (this.io.kvType === 'float16') withFloat16Bits(feeds);
    return fetches ? this.session.run(feeds, fetches) : this.session.run(feeds);
  }

  private logits(out: Outputs): OrtTensor {
    this.out = out;
    return out.logits!;
  }

  private keepRows(tensor: OrtTensor, rows: number, keep: readonly number[], shrink: boolean): OrtTensor {
    if (!shrink) return tensor;
    const dims = [keep.length, ...tensor.dims.slice(1)];
    return new this.Tensor(this.io.kvType, gatherRows(tensor.data as TypedArray, rows, keep) as Float32Array, dims);
  }
}
