/**
 * Reads an OpenAI-style completion or chat completion reply: the text of its one choice,
 * token counts from `usage`, the finish reason from `finish_reason`.
 */
import type { FinishReason, PromptStyle } from '../types.js';
import { ServerError } from './server-error.js';

export interface CompletionReply {
  text: string;
  promptTokens: number;
  generatedTokens: number;
  finishReason: FinishReason;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `finish_reason: "length"` is `length`. `"stop"` covers both the end-of-sequence token
 * and a stop string: vLLM tells them apart in `stop_reason` (the matched string, or a
 * token id or null for EOS); without it, `stop` is taken to be a stop string when the
 * request had any, else `eos`.
 */
export function finishReasonOf(choice: Obj, requestedStops: boolean): FinishReason {
  const reason = choice.finish_reason;
  if (reason === 'length') return 'length';
  if (reason === 'stop' || reason === 'eos' || reason === null || reason === undefined) {
    if ('stop_reason' in choice) return typeof choice.stop_reason === 'string' ? 'stop' : 'eos';
    return requestedStops && reason === 'stop' ? 'stop' : 'eos';
  }
  // content_filter, tool_calls...: the text ended for a reason of the server's; report it as a stop.
  return 'stop';
}

export function parseCompletionReply(json: unknown, style: PromptStyle, url: string, requestedStops: boolean): CompletionReply {
  const bad = (what: string) => new ServerError('rejected', `${url}: unexpected reply (${what})`);
  if (!isObj(json)) throw bad('not an object');
  const choices = json.choices;
  if (!Array.isArray(choices) || choices.length === 0 || !isObj(choices[0])) throw bad('no choices');
  const choice = choices[0];
  let text: unknown;
  if (style === 'chat') text = isObj(choice.message) ? (choice.message.content ?? '') : undefined;
  else text = choice.text;
  if (typeof text !== 'string') throw bad(style === 'chat' ? 'choices[0].message.content is not a string' : 'choices[0].text is not a string');
  const usage = isObj(json.usage) ? json.usage : {};
  const count = (v: unknown) => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : undefined);
  const promptTokens = count(usage.prompt_tokens);
  const generatedTokens = count(usage.completion_tokens);
  if (promptTokens === undefined || generatedTokens === undefined) throw bad('usage.prompt_tokens or usage.completion_tokens missing');
  return { text, promptTokens, generatedTokens, finishReason: finishReasonOf(choice, requestedStops) };
}
