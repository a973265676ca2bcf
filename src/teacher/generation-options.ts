/** Validation of generation requests at the engine boundary; messages name the bad field. */
import { rejectOption } from '../options.js';
import type { GenerationRequest } from './types.js';

export function validateRequests(requests: readonly GenerationRequest[]): void {
  if (!Array.isArray(requests)) rejectOption('requests', 'an array', requests);
  requests.forEach((request, i) => {
    const at = `requests[${i}]`;
    if (!request || typeof request.prompt !== 'string' || request.prompt === '') rejectOption(`${at}.prompt`, 'a non-empty string', request?.prompt);
    const o = request.options;
    if (!o || typeof o !== 'object') rejectOption(`${at}.options`, 'an object', o);
    if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) rejectOption(`${at}.options.maxNewTokens`, 'an integer >= 1', o.maxNewTokens);
    if (typeof o.temperature !== 'number' || !Number.isFinite(o.temperature) || o.temperature < 0) {
      rejectOption(`${at}.options.temperature`, 'a number >= 0 (0 = greedy)', o.temperature);
    }
    if (o.topK !== undefined && (!Number.isInteger(o.topK) || o.topK < 0)) rejectOption(`${at}.options.topK`, 'an integer >= 0', o.topK);
    if (o.topP !== undefined && (typeof o.topP !== 'number' || !(o.topP > 0 && o.topP <= 1))) rejectOption(`${at}.options.topP`, 'a number in (0, 1]', o.topP);
    if (o.seed !== undefined && (!Number.isSafeInteger(o.seed) || o.seed < 0)) rejectOption(`${at}.options.seed`, 'a non-negative integer', o.seed);
    if (o.repetitionPenalty !== undefined && (typeof o.repetitionPenalty !== 'number' || !(o.repetitionPenalty > 0) || !Number.isFinite(o.repetitionPenalty))) {
      rejectOption(`${at}.options.repetitionPenalty`, 'a number > 0 (1 = off)', o.repetitionPenalty);
    }
    if (o.noRepeatNgramSize !== undefined && (!Number.isInteger(o.noRepeatNgramSize) || o.noRepeatNgramSize < 0)) {
      rejectOption(`${at}.options.noRepeatNgramSize`, 'an integer >= 0 (0 = off)', o.noRepeatNgramSize);
    }
    if (o.minNewTokens !== undefined && (!Number.isInteger(o.minNewTokens) || o.minNewTokens < 0 || o.minNewTokens > o.maxNewTokens)) {
      rejectOption(`${at}.options.minNewTokens`, `an integer from 0 to maxNewTokens (${o.maxNewTokens})`, o.minNewTokens);
    }
    if (o.badWords !== undefined && (!Array.isArray(o.badWords) || (o.badWords as unknown[]).some((s) => typeof s !== 'string' || s === ''))) {
      rejectOption(`${at}.options.badWords`, 'an array of non-empty strings', o.badWords);
    }
    if (o.stop !== undefined && (!Array.isArray(o.stop) || (o.stop as unknown[]).some((s) => typeof s !== 'string' || s === ''))) {
      rejectOption(`${at}.options.stop`, 'an array of non-empty strings', o.stop);
    }
  });
}
