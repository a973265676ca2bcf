/**
 * The decoding guard against invented options: a question that offers (A) and (B) gets
 * `badWords` that keep the teacher from writing "(C)" or any other label it does not
 * offer, upper or lower case, after a space or not. Applied per prompt, from that prompt's
 * own question, so a prompt's output alone still equals its output in a batch.
 */
import type { GenerationOptions } from '../teacher/types.js';
import { questionOptions } from './question-options.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The opening of every option label `question` does not offer; none when it lists no options. */
export function inventedOptionWords(question: string): string[] {
  const offered = new Set(questionOptions(question).map((o) => o.label));
  if (offered.size === 0) return [];
  const words: string[] = [];
  for (const letter of LETTERS) {
    if (offered.has(letter)) continue;
    for (const l of [letter, letter.toLowerCase()]) words.push(`(${l}`, ` (${l}`);
  }
  return words;
}

/** `generation` for one sample's prompt: with `banInventedOptions`, its invented labels added to `badWords`. */
export function generationForSample(generation: GenerationOptions, banInventedOptions: boolean | undefined, question: string): GenerationOptions {
  if (banInventedOptions !== true) return generation;
  const words = inventedOptionWords(question);
  return words.length === 0 ? generation : { ...generation, badWords: [...(generation.badWords ?? []), ...words] };
}
