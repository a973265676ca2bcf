/**
 * Batched generation for a decoder-only ONNX model: one prefill, then one token per step
 * through the model's KV cache, in whichever layout the model has (cache-decoder.ts). Rows
 * that finish leave the batch at once, so finished rows cost nothing more.
 *
 * Runs wherever it is called; the engine calls it inside a worker thread.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { GenerationOptions, FinishReason } from './types.js';
import { TeacherlmError } from '../errors.js';
import type { ModelIO } from './model-io.js';
import type { ModelTokenizer } from './tokenizer.js';
import { argmax, sampleToken } from './sampling.js';
import { applyLogitsProcessors, hasLogitsProcessors } from './logits-processors.js';
import { createRng, requestRng, type Rng } from './prng.js';
import { halfToFloat, type HalfData } from './tensor-rows.js';
import type { CacheDecoder } from './cache-decoder.js';
import { OptimumDecoder } from './optimum-decoder.js';
import { BufferedDecoder } from './buffered-decoder.js';

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


  /**
   * @param splitPrefill (Optimum layout) run the prefill as two calls so logits are
   *   computed for the last position only (see {@link OptimumDecoder.prefill}); default true.
   */
  constructor(
    private readonly session: InferenceSession,
    private readonly io: ModelIO,
    private readonly tokenizer: ModelTokenizer,
    private readonly Tensor: TensorCtor,
    private readonly splitPrefill = true,
  ) {
    this.eos = new Set(tokenizer.special.eosIds);
  }

  private decoder(): CacheDecoder {
    const { session, io, Tensor } = this;
    const padId = this.tokenizer.special.padId;
    return io.cacheLayout === 'buffered'
      ? new BufferedDecoder(session, io, Tensor, padId)
      : new OptimumDecoder(session, io, Tensor, padId, this.splitPrefill);
  }

  async generate(inputs: readonly RowInput[]): Promise<RowOutput[]> {
    const { io } = this;
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
      maxStopLength: Math.max(0, ...(input.options.stop ?? []).map((s) => s.length)),
    }));
    const started = performance.now();
    const decoder = this.decoder();
    const maxNewTokens = Math.max(...inputs.map((r) => r.options.maxNewTokens));
    let logits = await decoder.prefill(inputs.map((r) => r.ids), maxNewTokens);
    const prefillMs = performance.now() - started;
    let active = rows.map((_, i) => i);

    for (;;) {
      const [, steps, vocab] = logits.dims as [number, number, number];
      // Pick each active row's next token from its last position only. Rows that finish
      // in the same step share one clock reading, taken when the first of them finishes.
      const keep: number[] = [];
      const tokens: number[] = [];
      let now: number | undefined;
      for (let b = 0; b < active.length; b++) {
        const row = rows[active[b]!]!;
        const token = this.pick(logits, (b * steps + steps - 1) * vocab, vocab, row);
        row.generated.push(token);
        if (this.checkFinished(row, token)) row.doneAt = now ??= performance.now();
        else {
          keep.push(b);
          tokens.push(token);
        }
      }
      if (keep.length === 0) break;
      active = keep.map((b) => active[b]!);
      if (this.shouldStop()) throw new TeacherlmError('SHUT_DOWN', 'generation stopped: the engine is shutting down');
      logits = await decoder.step(tokens, keep);
    }

    const prefillEnd = started + prefillMs;
    return rows.map((row) => this.finishRow(row, prefillMs, (row.doneAt ?? prefillEnd) - prefillEnd));
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
    if (hasLogitsProcessors(options)) {
      if (data !== this.logitsRow) {
        // The session's output stays untouched: the controls work on a copy of the row.
        if (this.logitsRow.length < vocab) this.logitsRow = new Float32Array(vocab);
        this.logitsRow.set(data.subarray(at, at + vocab));
        data = this.logitsRow;
        at = 0;
      }
      applyLogitsProcessors(data, at, vocab, options, { prompt: row.input.ids, generated: row.generated }, this.eos);
    }
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
