/**
 * Batched generation for a decoder-only ONNX model: one left-padded prefill, then one
 * token per step with the KV cache (`present.*` fed back as `past_key_values.*`) and a
 * growing attention mask. Rows that finish leave the batch at once: the cache and mask
 * keep only the surviving rows, so finished rows cost nothing more.
 *
 * Runs wherever it is called; the engine calls it inside a worker thread.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { GenerationOptions, FinishReason } from './types.js';
import { TeacherlmError } from '../errors.js';
import type { ModelIO } from './model-io.js';
import type { ModelTokenizer } from './tokenizer.js';
import { leftPad } from './tokenizer.js';
import { argmax, sampleToken } from './sampling.js';
import { createRng, requestRng, type Rng } from './prng.js';
import { gatherRows, halfToFloat, sliceColumns, type HalfData, type TypedArray } from './tensor-rows.js';
import { withFloat16Bits } from './float16-feeds.js';

type TensorCtor = typeof OrtTensor;

export interface RowInput {
  /** Prompt token ids (special tokens included). */
  ids: ArrayLike<number>;
  prompt: string;
  /** Already validated (`validateRequests`): in particular, stop strings are non-empty. */
  options: GenerationOptions;
}

export interface RowOutput {
  /** Generated ids, the EOS token included when it ended the row. */
  tokens: Int32Array;
  text: string;
  promptTokens: number;
  finishReason: FinishReason;
  prefillMs: number;
  /** From the end of the prefill to the row's last token. */
  decodeMs: number;
}

interface Row {
  input: RowInput;
  generated: number[];
  rng: Rng;
  /** Next position id: the number of real tokens so far. */
  position: number;
  finish?: FinishReason;
  doneAt?: number;
  maxStopLength: number;
}

export class BatchGenerator {
  /** Checked between steps; when it returns true the batch is abandoned with SHUT_DOWN. */
  shouldStop: () => boolean = () => false;
  private scratch = new Float32Array(0);
  private logitsRow = new Float32Array(0);
  private readonly eos: Set<number>;

  private readonly presentNames: string[];
  /** `use_cache_branch` / `logits_to_keep` feeds, built once (ORT does not write to inputs). */
  private readonly prefillBranch: Record<string, OrtTensor> = {};
  private readonly stepBranch: Record<string, OrtTensor> = {};

  /**
   * @param splitPrefill run the prefill as two calls so logits are computed for the last
   *   position only (see {@link BatchGenerator.prefill}); default true.
   */
  constructor(
    private readonly session: InferenceSession,
    private readonly io: ModelIO,
    private readonly tokenizer: ModelTokenizer,
    private readonly Tensor: TensorCtor,
    private readonly splitPrefill = true,
  ) {
    this.eos = new Set(tokenizer.special.eosIds);
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

  async generate(inputs: readonly RowInput[]): Promise<RowOutput[]> {
    const { Tensor, io } = this;
    const empty = inputs.findIndex((r) => r.ids.length === 0);
    if (empty >= 0) throw new TeacherlmError('GENERATION_FAILED', `prompt ${empty} encodes to no tokens`, { retriable: false });
    const limit = io.maxPositions;
    const tooLong = limit === undefined ? -1 : inputs.findIndex((r) => r.ids.length >= limit);
    if (tooLong >= 0) {
      throw new TeacherlmError(
        'GENERATION_FAILED',
        `prompt ${tooLong} has ${inputs[tooLong]!.ids.length} tokens; the model covers ${limit} positions (max_position_embeddings), prompt and output included`,
        { retriable: false },
      );
    }
    const rows: Row[] = inputs.map((input) => ({
      input,
      generated: [],
      rng: input.options.temperature > 0 ? requestRng(input.options.seed ?? randomSeed(), input.prompt) : createRng(0),
      position: input.ids.length,
      maxStopLength: Math.max(0, ...(input.options.stop ?? []).map((s) => s.length)),
    }));
    const started = performance.now();

    // Prefill: left-padded prompts, positions = cumsum(mask) - 1 clipped at 0.
    const padded = leftPad(inputs.map((r) => r.ids), this.tokenizer.special.padId);
    let batch = padded.rows;
    let width = padded.width;
    let mask = padded.attentionMask;
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
    let out = await this.prefill(padded.inputIds, mask, positions, batch, width);
    const prefillMs = performance.now() - started;
    let active = rows.map((_, i) => i);

    for (;;) {
      const logits = out.logits!;
      const [, steps, vocab] = logits.dims as [number, number, number];
      // Pick each active row's next token from its last position only. Rows that finish
      // in the same step share one clock reading, taken when the first of them finishes.
      const keep: number[] = [];
      let now: number | undefined;
      for (let b = 0; b < active.length; b++) {
        const row = rows[active[b]!]!;
        const token = this.pick(logits, (b * steps + steps - 1) * vocab, vocab, row);
        row.generated.push(token);
        if (this.checkFinished(row, token)) row.doneAt = now ??= performance.now();
        else keep.push(b);
      }
      if (keep.length === 0) break;

      // Survivors only: gather their cache rows and mask rows when some rows finished.
      const next: Record<string, OrtTensor> = {};
      const shrink = keep.length < active.length;
      for (const layer of io.layers) {
        next[layer.pastKey] = this.keepRows(out[layer.presentKey]!, batch, keep, shrink);
        next[layer.pastValue] = this.keepRows(out[layer.presentValue]!, batch, keep, shrink);
      }
      if (shrink) mask = gatherRows(mask, batch, keep);
      active = keep.map((b) => active[b]!);
      batch = active.length;

      // The mask grows by one real column per step.
      const grown = new BigInt64Array(batch * (width + 1));
      for (let b = 0; b < batch; b++) {
        grown.set(mask.subarray(b * width, (b + 1) * width), b * (width + 1));
        grown[b * (width + 1) + width] = 1n;
      }
      mask = grown;
      width += 1;
      const ids = new BigInt64Array(batch);
      const stepPositions = new BigInt64Array(batch);
      active.forEach((rowIndex, b) => {
        const row = rows[rowIndex]!;
        ids[b] = BigInt(row.generated[row.generated.length - 1]!);
        stepPositions[b] = BigInt(row.position++);
      });
      next.input_ids = new Tensor('int64', ids, [batch, 1]);
      next.attention_mask = new Tensor('int64', mask, [batch, width]);
      if (io.hasPositionIds) next.position_ids = new Tensor('int64', stepPositions, [batch, 1]);
      this.setBranchInputs(next, true);
      if (this.shouldStop()) throw new TeacherlmError('SHUT_DOWN', 'generation stopped: the engine is shutting down');
      out = await this.run(next);
    }

    const prefillEnd = started + prefillMs;
    return rows.map((row) => this.finishRow(row, prefillMs, (row.doneAt ?? prefillEnd) - prefillEnd));
  }

  /**
   * Runs the prompt through the model. Split in two (all columns but the last, fetching
   * only the cache; then the last column) so the logits, needed for the last position
   * only, are not computed and copied out for every prompt position: a [rows, width, vocab]
   * tensor is most of the prefill's output and a fifth of its compute on small models.
   */
  private async prefill(ids: BigInt64Array, mask: BigInt64Array, positions: BigInt64Array | undefined, batch: number, width: number) {
    const { Tensor, io } = this;
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
    this.setBranchInputs(feeds, false);
    if (head === width) return this.run(feeds);

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
    this.setBranchInputs(last, true);
    return this.run(last);
  }

  private run(feeds: Record<string, OrtTensor>, fetches?: string[]): Promise<InferenceSession.ReturnType> {
    if (this.io.kvType === 'float16') withFloat16Bits(feeds);
    return fetches ? this.session.run(feeds, fetches) : this.session.run(feeds);
  }

  private setBranchInputs(feeds: Record<string, OrtTensor>, hasPast: boolean): void {
    Object.assign(feeds, hasPast ? this.stepBranch : this.prefillBranch);
  }

  private keepRows(tensor: OrtTensor, rows: number, keep: number[], shrink: boolean): OrtTensor {
    if (!shrink) return tensor;
    const dims = [keep.length, ...tensor.dims.slice(1)];
    return new this.Tensor(this.io.kvType, gatherRows(tensor.data as TypedArray, rows, keep) as Float32Array, dims);
  }

  private pick(logits: OrtTensor, offset: number, vocab: number, row: Row): number {
    let data: Float32Array;
    let at = offset;
    if (this.io.logitsType === 'float16') {
      if (this.logitsRow.length < vocab) this.logitsRow = new Float32Array(vocab);
      data = halfToFloat(logits.data as HalfData, offset, vocab, this.logitsRow);
      at = 0;
    } else {
      data = logits.data as Float32Array;
    }
    const options = row.input.options;
    if (!(options.temperature > 0)) return argmax(data, at, vocab);
    if (this.scratch.length < 2 * vocab) this.scratch = new Float32Array(2 * vocab);
    return sampleToken(data, at, vocab, options, row.rng, this.scratch);
  }

  /** Sets the row's finish reason when this token ends it; returns whether it did. */
  private checkFinished(row: Row, token: number): boolean {
    const options = row.input.options;
    if (this.eos.has(token)) row.finish = 'eos';
    else if (row.maxStopLength > 0 && this.stopHit(row)) row.finish = 'stop';
    else if (row.generated.length >= options.maxNewTokens) row.finish = 'length';
    // Past the model's positions the output is garbage (or an error): stop as at maxNewTokens.
    else if (this.io.maxPositions !== undefined && row.input.ids.length + row.generated.length >= this.io.maxPositions) row.finish = 'length';
    return row.finish !== undefined;
  }

  /** Decodes only a tail of the output (enough tokens to hold any stop string). */
  private stopHit(row: Row): boolean {
    const tail = this.tokenizer.decode(row.generated.slice(-(row.maxStopLength + 8)));
    return (row.input.options.stop ?? []).some((s) => tail.includes(s));
  }

  private finishRow(row: Row, prefillMs: number, decodeMs: number): RowOutput {
    const body = row.finish === 'eos' ? row.generated.slice(0, -1) : row.generated;
    let text = this.tokenizer.decode(body);
    if (row.finish === 'stop') {
      // The text ends before the first stop string.
      const cut = Math.min(...(row.input.options.stop ?? []).map((s) => text.indexOf(s)).filter((i) => i >= 0));
      if (Number.isFinite(cut)) text = text.slice(0, cut);
    }
    return {
      tokens: Int32Array.from(row.generated),
      text,
      promptTokens: row.input.ids.length,
      finishReason: row.finish ?? 'length',
      prefillMs,
      decodeMs,
    };
  }
}

function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}
