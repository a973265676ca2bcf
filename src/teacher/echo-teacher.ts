/**
 * The echo teacher: a {@link TextGenerator} that answers every prompt with deterministic
 * text derived from it, without a model. It exists to measure the Kafka path (consume,
 * decode, encode, produce) on its own and to test the pipeline cheaply; a topology must
 * ask for it explicitly (`kind: echo`), it is never the default.
 *
 * Tokens are whitespace-separated words. The reply is `echo:` followed by the last
 * `maxNewTokens - 1` words of the prompt, so it differs per sample and per annotation.
 *
 * @example
 * const echo = new EchoTeacher();
 * await echo.generate([{ prompt: 'Q: Is it? A: yes. Let us think.', options: { maxNewTokens: 3, temperature: 0 } }]);
 * // => [{ text: 'echo: us think.', generatedTokens: 3, finishReason: 'length', ... }]
 */
import { TeacherlmError } from '../errors.js';
import type { GenerationRequest, GenerationResult, TextGenerator } from './types.js';
import { intOption } from '../options.js';
import { validateRequests } from './generation-options.js';

export interface EchoTeacherOptions {
  /** Batches accepted at once (as engine workers would). Default 1. */
  concurrency?: number;
  /** Model id written into records. Default `echo`. */
  modelId?: string;
}

// Tab, LF, VT, FF, CR, space; one comparison for every printable character.
const isSpace = (code: number) => code <= 32 && (code === 32 || (code >= 9 && code <= 13));

/** Whitespace-separated words in `text` (a character loop: this runs for every record of the Kafka-path bench). */
function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inWord) count++;
    inWord = !space;
  }
  return count;
}

/**
 * One backward pass over `text`: its word count and its last `n` words joined by single
 * spaces. When the tail is already single-space separated (the usual cleaned prompt) it
 * is one slice, with no word array.
 */
function scanTail(text: string, n: number): { words: number; tail: string; tailWords: number } {
  let words = 0;
  let tailStart = -1;
  let tailEnd = -1;
  let irregular = false;
  let i = text.length;
  while (i > 0) {
    const gapEnd = i;
    while (i > 0 && isSpace(text.charCodeAt(i - 1))) i--;
    if (i === 0) break;
    // A gap inside the tail other than one plain space must be normalised.
    if (words > 0 && words < n && (gapEnd - i !== 1 || text.charCodeAt(i) !== 32)) irregular = true;
    const end = i;
    while (i > 0 && !isSpace(text.charCodeAt(i - 1))) i--;
    words++;
    if (words === 1) tailEnd = end;
    if (words <= n) tailStart = i;
  }
  const tailWords = Math.min(words, n);
  if (tailWords === 0) return { words, tail: '', tailWords };
  const slice = text.slice(tailStart, tailEnd);
  return { words, tail: irregular ? slice.split(/[ \n\t\r\f\v]+/).join(' ') : slice, tailWords };
}

/** Timings of a reply that took no engine time (shared: results are read, not mutated). */
const NO_TIMINGS = Object.freeze({ queuedMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 0 });

export class EchoTeacher implements TextGenerator {
  readonly modelId: string;
  readonly concurrency: number;
  readonly device = 'cpu';
  private closed = false;

  constructor(options: EchoTeacherOptions = {}) {
    this.concurrency = intOption('concurrency', options.concurrency, 1);
    this.modelId = options.modelId ?? 'echo';
  }

  countTokens(prompt: string): number {
    return countWords(prompt);
  }

  async generate(requests: GenerationRequest[]): Promise<GenerationResult[]> {
    if (this.closed) throw new TeacherlmError('SHUT_DOWN', 'the echo teacher is closed');
    // The engine's own checks, so what passes against the echo teacher passes against a model.
    validateRequests(requests);
    return requests.map(({ prompt, options }) => {
      const budget = Math.max(0, options.maxNewTokens - 1);
      const { words: promptTokens, tail, tailWords } = scanTail(prompt, budget);
      return {
        text: tailWords === 0 ? 'echo:' : `echo: ${tail}`,
        promptTokens,
        generatedTokens: Math.min(options.maxNewTokens, 1 + tailWords),
        finishReason: promptTokens > budget ? 'length' : 'eos',
        timings: NO_TIMINGS,
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
