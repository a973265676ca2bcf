/**
 * The topology fields of a `kind: openai` teacher (beside `model`, the served model's
 * name), validated with the topology's own messages:
 *
 * ```yaml
 * baseUrls: [http://gpu-1:8000/v1, http://gpu-2:8000/v1]
 * apiKeyEnv: VLLM_API_KEY          # the variable's name; the key stays in the environment
 * dialect: vllm                    # openai (default) | vllm | llama.cpp
 * timeouts: { connectMs: 5000, requestMs: 120000 }
 * concurrency: { initial: 4, min: 1, max: 64 }     # per server, AIMD between min and max
 * requestRetry: { maxAttempts: 5, initialBackoffMs: 200, maxBackoffMs: 10000, multiplier: 2 }
 * ejection: { afterFailures: 5, forMs: 10000, maxMs: 300000 }
 * tokenizer: models/smollm2-135m-instruct          # optional: exact prompt token counts
 * ```
 */
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_EJECTION,
  DEFAULT_REQUEST_RETRY,
  DEFAULT_TIMEOUTS,
  ENV_NAME,
  OPENAI_DIALECTS,
  isHttpUrl,
  normalizeBaseUrl,
  unsupportedGeneration,
  type OpenAiServerSpec,
} from '../teacher/openai/openai-options.js';
import type { GenerationOptions } from '../teacher/types.js';
import { fail, number, oneOf, optionalObject, text } from '../topology-fields.js';

export const OPENAI_TEACHER_FIELDS = ['baseUrls', 'apiKeyEnv', 'dialect', 'timeouts', 'concurrency', 'requestRetry', 'ejection', 'tokenizer'] as const;

const positiveInt = { integer: true, positive: true };

export function openAiServer(o: Record<string, unknown>, field: string, generation: GenerationOptions): OpenAiServerSpec {
  if (!Array.isArray(o.baseUrls) || o.baseUrls.length === 0) fail(`${field}.baseUrls`, 'a non-empty list of http(s) URLs', o.baseUrls);
  const baseUrls = o.baseUrls.map((url: unknown, i) => {
    if (!isHttpUrl(url)) fail(`${field}.baseUrls[${i}]`, 'an http(s) URL such as http://host:8000/v1', url);
    return normalizeBaseUrl(url);
  });
  if (new Set(baseUrls).size !== baseUrls.length) fail(`${field}.baseUrls`, 'distinct URLs', o.baseUrls.join(', '));
  let apiKeyEnv: string | undefined;
  if (o.apiKeyEnv !== undefined) {
    apiKeyEnv = text(o.apiKeyEnv, `${field}.apiKeyEnv`);
    if (!ENV_NAME.test(apiKeyEnv)) fail(`${field}.apiKeyEnv`, 'the name of an environment variable (not the key itself)', '(hidden)');
  }
  const dialect = oneOf(o.dialect, `${field}.dialect`, OPENAI_DIALECTS, 'openai');
  const refused = unsupportedGeneration(dialect, generation);
  if (refused) fail(`${field}.generation.${refused.field}`, `an option the ${dialect} dialect honours (${refused.reason})`, generation[refused.field as keyof GenerationOptions]);

  const t = optionalObject(o.timeouts, `${field}.timeouts`, ['connectMs', 'requestMs']);
  const c = optionalObject(o.concurrency, `${field}.concurrency`, ['initial', 'min', 'max']);
  const r = optionalObject(o.requestRetry, `${field}.requestRetry`, ['maxAttempts', 'initialBackoffMs', 'maxBackoffMs', 'multiplier']);
  const e = optionalObject(o.ejection, `${field}.ejection`, ['afterFailures', 'forMs', 'maxMs']);
  const concurrency = {
    initial: number(c.initial, `${field}.concurrency.initial`, DEFAULT_CONCURRENCY.initial, positiveInt),
    min: number(c.min, `${field}.concurrency.min`, DEFAULT_CONCURRENCY.min, positiveInt),
    max: number(c.max, `${field}.concurrency.max`, DEFAULT_CONCURRENCY.max, positiveInt),
  };
  if (concurrency.min > concurrency.initial || concurrency.initial > concurrency.max) {
    fail(`${field}.concurrency`, 'min <= initial <= max', `min ${concurrency.min}, initial ${concurrency.initial}, max ${concurrency.max}`);
  }
  const spec: OpenAiServerSpec = {
    baseUrls,
    dialect,
    timeouts: {
      connectMs: number(t.connectMs, `${field}.timeouts.connectMs`, DEFAULT_TIMEOUTS.connectMs, positiveInt),
      requestMs: number(t.requestMs, `${field}.timeouts.requestMs`, DEFAULT_TIMEOUTS.requestMs, positiveInt),
    },
    concurrency,
    requestRetry: {
      maxAttempts: number(r.maxAttempts, `${field}.requestRetry.maxAttempts`, DEFAULT_REQUEST_RETRY.maxAttempts, positiveInt),
      initialBackoffMs: number(r.initialBackoffMs, `${field}.requestRetry.initialBackoffMs`, DEFAULT_REQUEST_RETRY.initialBackoffMs, { min: 0 }),
      maxBackoffMs: number(r.maxBackoffMs, `${field}.requestRetry.maxBackoffMs`, DEFAULT_REQUEST_RETRY.maxBackoffMs, { min: 0 }),
      multiplier: number(r.multiplier, `${field}.requestRetry.multiplier`, DEFAULT_REQUEST_RETRY.multiplier, { min: 1 }),
    },
    ejection: {
      afterFailures: number(e.afterFailures, `${field}.ejection.afterFailures`, DEFAULT_EJECTION.afterFailures, positiveInt),
      forMs: number(e.forMs, `${field}.ejection.forMs`, DEFAULT_EJECTION.forMs, positiveInt),
      maxMs: number(e.maxMs, `${field}.ejection.maxMs`, DEFAULT_EJECTION.maxMs, positiveInt),
    },
  };
  if (apiKeyEnv !== undefined) spec.apiKeyEnv = apiKeyEnv;
  return spec;
}
