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

export interface EchoTeacherOptions {
  /** Batches accepted at once (as engine workers would). Default 1. */
  concurrency?: number;
  /** Model id written into records. Default `echo`. */
  modelId?: string;
}

const isSpace = (code: number) => code === 32 || code === 10 || code === 9 || code === 13 || code === 12 || code === 11;

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

/** The last `n` words of `text`, joined by single spaces. */
function lastWords(text: string, n: number): string[] {
  const out: string[] = [];
  let end = text.length;
  while (out.length < n && end > 0) {
    while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--;
    let start = end;
    while (start > 0 && !isSpace(text.charCodeAt(start - 1))) start--;
    if (start === end) break;
    out.push(text.slice(start, end));
    end = start;
  }
  return out.reverse();
}

export class EchoTeacher implements TextGenerator {
  readonly modelId: string;
  readonly concurrency: number;
  private closed = false;

  constructor(options: EchoTeacherOptions = {}) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new TeacherlmError('INVALID_OPTIONS', `concurrency: expected a positive integer, got ${JSON.stringify(concurrency)}`);
    }
    this.concurrency = concurrency;
    this.modelId = options.modelId ?? 'echo';
  }

  countTokens(prompt: string): number {
    return countWords(prompt);
  }

  async generate(requests: GenerationRequest[]): Promise<GenerationResult[]> {
    if (this.closed) throw new TeacherlmError('SHUT_DOWN', 'the echo teacher is closed');
    return requests.map(({ prompt, options }) => {
      const promptTokens = countWords(prompt);
      const budget = Math.max(0, options.maxNewTokens - 1);
      const tail = lastWords(prompt, budget);
      return {
        text: tail.length === 0 ? 'echo:' : `echo: ${tail.join(' ')}`,
        promptTokens,
        generatedTokens: Math.min(options.maxNewTokens, 1 + tail.length),
        finishReason: promptTokens > budget ? 'length' : 'eos',
        timings: { queuedMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 0 },
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
