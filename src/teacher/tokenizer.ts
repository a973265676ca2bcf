/**
 * The model's own tokenizer.json through @huggingface/tokenizers, with the special-token
 * rules of its config files, left padding of encoded rows, and decoding.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { TeacherlmError } from '../errors.js';
import type { ModelFiles } from './model-files.js';
import { resolveSpecialTokens, type SpecialTokens } from './special-tokens.js';

/** A left-padded batch, row-major [rows, width], ready to become int64 tensors. */
export interface PaddedBatch {
  rows: number;
  width: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  /** Real (unpadded) length of each row. */
  lengths: number[];
}

export class ModelTokenizer {
  readonly special: SpecialTokens;
  private readonly tokenizer: Tokenizer;

  constructor(files: Pick<ModelFiles, 'config' | 'generationConfig' | 'tokenizerConfig' | 'tokenizerJson'>) {
    try {
      this.tokenizer = new Tokenizer(files.tokenizerJson, files.tokenizerConfig);
    } catch (err) {
      throw new TeacherlmError('MODEL_INVALID', `tokenizer.json could not be loaded: ${(err as Error).message}`, { cause: err });
    }
    this.special = resolveSpecialTokens(files, this.tokenizer);
  }

  /**
   * Token ids of a prompt as the model sees it: the tokenizer.json post-processor's
   * special tokens, then tokenizer_config.json `add_bos_token` enforced either way, and
   * never two BOS (a chat template that writes `bos_token` itself already has one).
   */
  encode(text: string): number[] {
    const ids = this.tokenizer.encode(text, { add_special_tokens: true }).ids;
    const { bosId, addBos } = this.special;
    if (bosId === undefined) return ids;
    if (addBos === true && ids[0] !== bosId) ids.unshift(bosId);
    if (addBos === false && ids[0] === bosId && !(this.special.bosText && text.startsWith(this.special.bosText))) ids.shift();
    if (ids[0] === bosId && ids[1] === bosId) ids.shift();
    return ids;
  }

  /** `text`'s tokens alone, without special tokens (for banned sequences). */
  encodePlain(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  countTokens(text: string): number {
    return this.encode(text).length;
  }

  /** Decodes generated ids; special tokens (EOS, chat markers) are left out. */
  decode(ids: ArrayLike<number>, skipSpecialTokens = true): string {
    return this.tokenizer.decode(Array.from(ids), { skip_special_tokens: skipSpecialTokens });
  }
}

/** Left-pads token id rows: padding goes first so every row's last token is at the same column. */
export function leftPad(rows: readonly ArrayLike<number>[], padId: number): PaddedBatch {
  const width = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const inputIds = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  const attentionMask = new BigInt64Array(rows.length * width);
  rows.forEach((row, r) => {
    const offset = r * width + (width - row.length);
    for (let i = 0; i < row.length; i++) {
      inputIds[offset + i] = BigInt(row[i]!);
      attentionMask[offset + i] = 1n;
    }
  });
  return { rows: rows.length, width, inputIds, attentionMask, lengths: rows.map((r) => r.length) };
}
