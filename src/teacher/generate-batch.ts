/**
 * Batched generation for a decoder-only ONNX model: rows join with a prefill, then get one
 * token per step through the model's KV cache, in whichever layout the model has
 * (cache-decoder.ts). Rows that finish leave the batch at once, so finished rows cost
 * nothing more. {@link BatchGenerator.run} batches continuously: between steps it admits
 * new groups of prompts, which the decoder prefills apart and adds to the running rows
 * (where the layout allows; otherwise only an empty batch admits). {@link
 * BatchGenerator.generate} is the static form: one group, run to its end. With prompt
 * lookup on (prompt-lookup.ts), small batches of greedy rows speculate: a step feeds each
 * row its drafts too, keeps those the model would have picked, and rolls back the rest.
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
import { draftTokens, NO_PROMPT_LOOKUP, type PromptLookup } from './prompt-lookup.js';

type TensorCtor = typeof OrtTensor;

export interface RowInput {
  /** Prompt token ids (special tokens included). */
  ids: ArrayLike<number>;
  prompt: string;
  /** Already validated (`validateRequests`): in particular, stop strings are non-empty. */
  options: GenerationOptions;
  /** `options.badWords`, encoded. */
  badWordIds?: readonly (readonly number[])[];
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
  /**
   * Tokens taken from prompt-lookup drafts: each model call gives a row one token of its
   * own, so the row took part in `tokens.length - acceptedDrafts` calls, its prefill included.
   */
  acceptedDrafts: number;
}

/** Prompts that join a running batch together and are answered together. */
export interface RowGroup {
  inputs: readonly RowInput[];
  /** Called once every row of the group has finished, with their outputs in input order. */
  done(outputs: RowOutput[]): void;
  /** Called instead of `done` when the group cannot run (a prompt the model cannot take). */
  failed(error: TeacherlmError): void;
}

/**
 * Asked between steps for groups to admit. `running` rows are mid-generation; when
 * `canJoin` is false (the layout batches statically and rows are running) nothing may be
 * admitted yet.
 */
export type Admit = (running: number, canJoin: boolean) => readonly RowGroup[];

interface Row {
  input: RowInput;
  group: GroupState;
  generated: number[];
  rng: Rng;
  finish?: FinishReason;
  doneAt?: number;
  maxStopLength: number;
  prefillMs: number;
  /** When the row's prefill ended. */
  joinedAt: number;
  acceptedDrafts: number;
}

interface GroupState {
  group: RowGroup;
  rows: Row[];
  left: number;
}

export class BatchGenerator {
  /** Checked between steps; when it returns true the batch is abandoned with SHUT_DOWN. */
  shouldStop: () => boolean = () => false;
  private scratch = new Float32Array(0);
  private logitsRow = new Float32Array(0);
  private readonly eos: Set<number>;

  /**
   * @param splitPrefill (Optimum layout) run the prefill as two calls so logits are
   *   computed for the last position only (see {@link OptimumDecoder.join}); default true.
   * @param promptLookup speculative decoding of greedy rows (prompt-lookup.ts); default off.
   */
  constructor(
    private readonly session: InferenceSession,
    private readonly io: ModelIO,
    private readonly tokenizer: ModelTokenizer,
    private readonly Tensor: TensorCtor,
    private readonly splitPrefill = true,
    private readonly promptLookup: PromptLookup = NO_PROMPT_LOOKUP,
  ) {
    this.eos = new Set(tokenizer.special.eosIds);
  }

  /** Whether {@link run} admits groups into a running batch with this model's layout. */
  get continuous(): boolean {
    return this.io.cacheLayout === 'buffered';
  }

  private decoder(): CacheDecoder {
    const { session, io, Tensor } = this;
    const padId = this.tokenizer.special.padId;
    return io.cacheLayout === 'buffered'
      ? new BufferedDecoder(session, io, Tensor, padId)
      : new OptimumDecoder(session, io, Tensor, padId, this.splitPrefill);
  }

  /** One group, run to its end (static batching). Rejects when a prompt cannot run. */
  generate(inputs: readonly RowInput[]): Promise<RowOutput[]> {
    return new Promise((resolve, reject) => {
      let admitted = false;
      const group: RowGroup = { inputs, done: resolve, failed: reject };
      this.run(() => (admitted ? [] : ((admitted = true), [group]))).catch(reject);
    });
  }

  /**
   * Generates until no row is running and `admit` has nothing more. A group whose prompt
   * the model cannot take fails alone; an error of the model run itself (or SHUT_DOWN)
   * rejects, and the groups still running are the caller's to fail.
   */
  async run(admit: Admit): Promise<void> {
    const decoder = this.decoder();
    let active: Row[] = [];
    let logits: OrtTensor | undefined;
    /** The drafts the last call verified, per active row; undefined after a plain step. */
    let drafts: number[][] | undefined;
    for (;;) {
      const finished: number[] = [];
      // Rows that finish in the same step share one clock reading, taken when the first of them finishes.
      let now: number | undefined;
      const pickAll = (from: OrtTensor, rows: readonly Row[], offset: number): void => {
        const [, steps, vocab] = from.dims as [number, number, number];
        for (let b = 0; b < rows.length; b++) {
          const row = rows[b]!;
          const token = this.pick(from, (b * steps + steps - 1) * vocab, vocab, row);
          row.generated.push(token);
          if (this.checkFinished(row, token)) {
            row.doneAt = now ??= performance.now();
            finished.push(offset + b);
          }
        }
      };
      if (logits && drafts) {
        // Position i's logits follow draft i - 1: picked as a plain step would (controls
        // see the drafts accepted so far), a draft is kept while the pick equals it, and
        // the first pick that differs (or follows the last draft) is the row's own token.
        const [, width, vocab] = logits.dims as [number, number, number];
        const drop: number[] = [];
        for (let b = 0; b < active.length; b++) {
          const row = active[b]!;
          const draft = drafts[b]!;
          let i = 0;
          for (;;) {
            const token = this.pick(logits, (b * width + i) * vocab, vocab, row);
            row.generated.push(token);
            if (this.checkFinished(row, token)) {
              row.doneAt = now ??= performance.now();
              finished.push(b);
              break;
            }
            if (i >= draft.length || token !== draft[i]) break;
            i++;
          }
          row.acceptedDrafts += i;
          // Fed: the row's last token, then the drafts; the cache keeps the last token and the accepted ones.
          drop.push(width - 1 - i);
        }
        decoder.rollback(drop);
      } else if (logits) pickAll(logits, active, 0);

      const groups = admit(active.length - finished.length, decoder.joinsRunning || active.length === finished.length);
      const joining = groups.flatMap((group) => this.admitGroup(group));
      if (joining.length > 0) {
        if (!decoder.joinsRunning && finished.length > 0) active = this.leave(decoder, active, finished.splice(0));
        const started = performance.now();
        const joined = await decoder.join(
          joining.map((r) => r.input.ids),
          Math.max(...joining.map((r) => r.input.options.maxNewTokens)),
        );
        const joinedAt = performance.now();
        for (const row of joining) {
          row.prefillMs = joinedAt - started;
          row.joinedAt = joinedAt;
        }
        pickAll(joined, joining, active.length);
        active = active.concat(joining);
      }
      if (finished.length > 0) active = this.leave(decoder, active, finished);
      if (active.length === 0) {
        if (joining.length === 0 && logits === undefined) return;
        logits = undefined;
        continue;
      }
      if (this.shouldStop()) throw new TeacherlmError('SHUT_DOWN', 'generation stopped: the engine is shutting down');
      drafts = decoder.verifies ? this.draft(active) : undefined;
      if (drafts) {
        const width = 1 + Math.max(...drafts.map((d) => d.length));
        // Rows with fewer drafts are padded with their last token: the pad is never kept.
        logits = await decoder.verify(
          active.map((row, b) => {
            const last = row.generated[row.generated.length - 1]!;
            const fed = [last, ...drafts![b]!];
            while (fed.length < width) fed.push(last);
            return fed;
          }),
        );
      } else {
        logits = await decoder.step(active.map((row) => row.generated[row.generated.length - 1]!));
      }
    }
  }

  /**
   * Per row its prompt-lookup drafts for the next call, or undefined (a plain step) when
   * speculation is off, the batch holds more than `promptLookup.maxRows` rows (then the
   * step is compute-bound and verifying drafts costs more than it saves), or no row has a
   * draft. Only greedy rows draft, and no further than the row could still generate.
   */
  private draft(active: readonly Row[]): number[][] | undefined {
    const { tokens, maxRows } = this.promptLookup;
    if (tokens <= 0 || active.length > maxRows) return undefined;
    let any = false;
    const drafts = active.map((row) => {
      const options = row.input.options;
      if (options.temperature > 0) return [];
      const sequence = row.input.ids.length + row.generated.length;
      // A draft token fed at the row's last position would predict a token never generated.
      let room = Math.min(tokens, options.maxNewTokens - row.generated.length - 1);
      if (this.io.maxPositions !== undefined) room = Math.min(room, this.io.maxPositions - sequence - 1);
      const draft = draftTokens(row.input.ids, row.generated, room);
      if (draft.length > 0) any = true;
      return draft;
    });
    return any ? drafts : undefined;
  }

  /** Checks a group's prompts and makes its rows; a group that cannot run fails here, alone. */
  private admitGroup(group: RowGroup): Row[] {
    const { io } = this;
    const { inputs } = group;
    const empty = inputs.findIndex((r) => r.ids.length === 0);
    const limit = io.maxPositions;
    const tooLong = limit === undefined ? -1 : inputs.findIndex((r) => r.ids.length >= limit);
    if (empty >= 0 || tooLong >= 0 || inputs.length === 0) {
      group.failed(
        empty >= 0
          ? new TeacherlmError('GENERATION_FAILED', `prompt ${empty} encodes to no tokens`, { retriable: false })
          : tooLong >= 0
            ? new TeacherlmError(
                'GENERATION_FAILED',
                `prompt ${tooLong} has ${inputs[tooLong]!.ids.length} tokens; the model covers ${limit} positions (max_position_embeddings), prompt and output included`,
                { retriable: false },
              )
            : new TeacherlmError('INTERNAL', 'an empty group of prompts'),
      );
      return [];
    }
    const state: GroupState = { group, rows: [], left: inputs.length };
    state.rows = inputs.map((input) => ({
      input,
      group: state,
      generated: [],
      rng: input.options.temperature > 0 ? requestRng(input.options.seed ?? randomSeed(), input.prompt) : createRng(0),
      maxStopLength: Math.max(0, ...(input.options.stop ?? []).map((s) => s.length)),
      prefillMs: 0,
      joinedAt: 0,
      acceptedDrafts: 0,
    }));
    return state.rows;
  }

  /** Takes finished rows out of the decoder and answers the groups they complete. */
  private leave(decoder: CacheDecoder, active: Row[], finished: readonly number[]): Row[] {
    const order = decoder.remove(finished);
    for (const b of finished) {
      const state = active[b]!.group;
      if (--state.left === 0) state.group.done(state.rows.map((row) => this.finishRow(row)));
    }
    return order.map((b) => active[b]!);
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
      applyLogitsProcessors(data, at, vocab, options, { prompt: row.input.ids, generated: row.generated, ...(row.input.badWordIds ? { badWordIds: row.input.badWordIds } : {}) }, this.eos);
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

  private finishRow(row: Row): RowOutput {
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
      prefillMs: row.prefillMs,
      decodeMs: (row.doneAt ?? row.joinedAt) - row.joinedAt,
      acceptedDrafts: row.acceptedDrafts,
    };
  }
}

function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}
