import { describe, expect, it } from 'vitest';
import { finishReasonOf, parseCompletionReply } from '../../../src/teacher/openai/completion-reply.js';
import { parseRetryAfter, statusError } from '../../../src/teacher/openai/server-error.js';

describe('completion replies', () => {
  const usage = { prompt_tokens: 12, completion_tokens: 5 };

  it('reads text, usage and finish reason of /completions and /chat/completions', () => {
    expect(parseCompletionReply({ choices: [{ text: ' hi', finish_reason: 'length' }], usage }, 'raw', 'u', false)).toEqual({
      text: ' hi', promptTokens: 12, generatedTokens: 5, finishReason: 'length',
    });
    expect(parseCompletionReply({ choices: [{ message: { content: 'yo' }, finish_reason: 'stop' }], usage }, 'chat', 'u', false)).toMatchObject({ text: 'yo', finishReason: 'eos' });
  });

  it('tells a stop string from EOS by vLLM stop_reason, else by whether stops were asked for', () => {
    expect(finishReasonOf({ finish_reason: 'stop', stop_reason: '\n\n' }, true)).toBe('stop');
    expect(finishReasonOf({ finish_reason: 'stop', stop_reason: null }, true)).toBe('eos');
    expect(finishReasonOf({ finish_reason: 'stop', stop_reason: 2 }, true)).toBe('eos');
    expect(finishReasonOf({ finish_reason: 'stop' }, true)).toBe('stop');
    expect(finishReasonOf({ finish_reason: 'stop' }, false)).toBe('eos');
  });

  it('refuses replies it cannot use, as SERVER_REJECTED', () => {
    expect(() => parseCompletionReply({ choices: [] }, 'raw', 'http://x/v1/completions', false)).toThrow(/http:\/\/x\/v1\/completions: unexpected reply \(no choices\)/);
    expect(() => parseCompletionReply({ choices: [{ text: 'a' }] }, 'raw', 'u', false)).toThrow(/usage/);
    expect(() => parseCompletionReply({ choices: [{ text: 1 }], usage }, 'raw', 'u', false)).toThrow(expect.objectContaining({ code: 'SERVER_REJECTED', retriable: false }));
  });

  it('classifies statuses: 429/503 overload, other 5xx failure, 4xx rejected; reads Retry-After in seconds or as a date', () => {
    expect(statusError('u', 429, '', 2000)).toMatchObject({ fault: 'overload', retriable: true, retryAfterMs: 2000 });
    expect(statusError('u', 503, '', undefined)).toMatchObject({ fault: 'overload', code: 'SERVER_UNAVAILABLE' });
    expect(statusError('u', 500, 'boom', undefined)).toMatchObject({ fault: 'failure', retriable: true, message: 'u answered 500: boom' });
    expect(statusError('u', 401, '', undefined)).toMatchObject({ fault: 'rejected', retriable: false, hint: expect.stringMatching(/apiKeyEnv/) });
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
