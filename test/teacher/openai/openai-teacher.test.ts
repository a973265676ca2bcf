import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONCURRENCY, DEFAULT_EJECTION, DEFAULT_REQUEST_RETRY, DEFAULT_TIMEOUTS, type OpenAiServerSpec } from '../../../src/teacher/openai/openai-options.js';
import { OpenAiTeacher } from '../../../src/teacher/openai/openai-teacher.js';
import type { GenerationRequest } from '../../../src/teacher/types.js';
import { fakeServer, fakeTransport, type FakeServer } from './fake-servers.js';

const A = 'http://a:8000/v1';
const B = 'http://b:8000/v1';

function spec(patch: Partial<OpenAiServerSpec> = {}): OpenAiServerSpec {
  return {
    baseUrls: [A, B],
    dialect: 'llama.cpp',
    timeouts: DEFAULT_TIMEOUTS,
    concurrency: DEFAULT_CONCURRENCY,
    requestRetry: DEFAULT_REQUEST_RETRY,
    ejection: DEFAULT_EJECTION,
    ...patch,
  };
}

const requests = (n: number, from = 0): GenerationRequest[] =>
  Array.from({ length: n }, (_, i) => ({ prompt: `prompt ${from + i}`, options: { maxNewTokens: 8, temperature: 0 } }));

/** Advances virtual time until `promise` settles. */
async function drive<T>(promise: Promise<T>, stepMs = 10): Promise<T> {
  let settled = false;
  const done = promise.finally(() => {
    settled = true;
  });
  for (let waited = 0; !settled && waited < 600_000; waited += stepMs) await vi.advanceTimersByTimeAsync(stepMs);
  return done;
}

function teacher(servers: Record<string, FakeServer>, patch: Partial<OpenAiServerSpec> = {}, style: 'raw' | 'chat' = 'raw') {
  return new OpenAiTeacher({ model: 'm', style, server: spec({ baseUrls: Object.keys(servers), ...patch }), transport: fakeTransport(servers), random: () => 0 });
}

describe('OpenAiTeacher (virtual time)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends a batch as concurrent requests spread over the servers by least outstanding', async () => {
    const a = fakeServer();
    const b = fakeServer();
    const t = teacher({ [A]: a, [B]: b });
    const done = t.generate(requests(8));
    await vi.advanceTimersByTimeAsync(1);
    // 8 requests, 4 permits per server at start: all 8 go out at once, 4 to each.
    expect([a.inFlight, b.inFlight]).toEqual([4, 4]);
    await vi.advanceTimersByTimeAsync(100);
    const results = await done;
    expect(results.map((r) => r.text)).toEqual(requests(8).map((r) => `reply to ${r.prompt}`));
    expect(results[0]).toMatchObject({ promptTokens: 7, generatedTokens: 3, finishReason: 'length' });
  });

  it('queues requests beyond the permits and sends each as one comes free', async () => {
    const a = fakeServer();
    const t = teacher({ [A]: a }, { concurrency: { initial: 2, min: 1, max: 2 } });
    const done = t.generate(requests(5));
    await vi.advanceTimersByTimeAsync(1);
    expect(a.inFlight).toBe(2);
    await vi.advanceTimersByTimeAsync(300);
    await done;
    expect(a.peakInFlight).toBe(2);
    expect(a.requests).toHaveLength(5);
  });

  it('raw prompts go to /completions as prompt, chat prompts to /chat/completions as the user message, byte for byte', async () => {
    const a = fakeServer();
    const prompt = "Q: Is it? (A) True (B) False A: The answer is (B). Let's think step by step.";
    const raw = teacher({ [A]: a });
    const chat = teacher({ [A]: a }, {}, 'chat');
    const both = Promise.all([raw.generate([{ prompt, options: { maxNewTokens: 4, temperature: 0 } }]), chat.generate([{ prompt, options: { maxNewTokens: 4, temperature: 0 } }])]);
    await vi.advanceTimersByTimeAsync(200);
    const [[r], [c]] = await both;
    expect(a.requests[0]?.url).toBe(`${A}/completions`);
    expect((a.requests[0]?.body as { prompt: string }).prompt).toBe(prompt);
    expect(a.requests[1]?.url).toBe(`${A}/chat/completions`);
    expect((a.requests[1]?.body as { messages: unknown }).messages).toEqual([{ role: 'user', content: prompt }]);
    expect(r?.finishReason).toBe('length');
    expect(c?.finishReason).toBe('eos');
  });

  it('retries a 503 after a jittered exponential backoff, then answers', async () => {
    const a = fakeServer({ latencyMs: 10, behave: (_, n) => (n <= 2 ? { status: 503 } : 'ok') });
    const sentAt: number[] = [];
    const t = new OpenAiTeacher({
      model: 'm', style: 'raw', server: spec({ baseUrls: [A] }), random: () => 0,
      transport: (req) => {
        sentAt.push(Date.now());
        return fakeTransport({ [A]: a })(req);
      },
    });
    const start = Date.now();
    const done = t.generate(requests(1));
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await done)[0]?.text).toBe('reply to prompt 0');
    // Attempt 1 at 0 fails at 10; backoff 200/2 = 100 -> attempt 2 at 110 fails at 120; 400/2 -> attempt 3 at 320.
    expect(sentAt.map((t0) => t0 - start)).toEqual([0, 110, 320]);
  });

  it("honours Retry-After: the server gets nothing until it has passed", async () => {
    const a = fakeServer({ latencyMs: 10, behave: (_, n) => (n === 1 ? { status: 429, retryAfterMs: 5_000 } : 'ok') });
    const t = teacher({ [A]: a });
    const done = t.generate(requests(1));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(a.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(a.requests).toHaveLength(2);
    await done;
  });

  it('cuts concurrency when 429s start and grows it back after they stop', async () => {
    let capacity = Infinity;
    const a = fakeServer({ latencyMs: 100, behave: (inFlight) => (inFlight > capacity ? { status: 429 } : 'ok') });
    const t = teacher({ [A]: a }, { concurrency: { initial: 4, min: 1, max: 32 }, requestRetry: { ...DEFAULT_REQUEST_RETRY, maxAttempts: 20 } });
    const limit = () => t.pool.servers[0]?.limit.current ?? 0;
    // A steady stream: always 64 requests waiting.
    let next = 0;
    let stop = false;
    const feed = async () => {
      while (!stop) await t.generate(requests(64, (next += 64)));
    };
    const feeding = feed();
    await vi.advanceTimersByTimeAsync(5_000);
    const grown = limit();
    expect(grown).toBeGreaterThan(12);
    capacity = 3; // the server now answers 429 above 3 in flight
    await vi.advanceTimersByTimeAsync(5_000);
    const cut = limit();
    expect(cut).toBeLessThanOrEqual(5);
    expect(a.requests.length).toBeGreaterThan(0);
    capacity = Infinity;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(limit()).toBeGreaterThan(cut + 4);
    stop = true;
    await vi.advanceTimersByTimeAsync(10_000);
    await feeding;
  });

  it('ejects a server that keeps failing, sends everything to the other, probes it with one request before it returns', async () => {
    let aDown = true;
    const a = fakeServer({ latencyMs: 10, behave: () => (aDown ? 'reset' : 'ok') });
    const b = fakeServer({ latencyMs: 10 });
    const t = teacher({ [A]: a, [B]: b }, { ejection: { afterFailures: 3, forMs: 1_000, maxMs: 60_000 } });
    expect(await drive(t.generate(requests(16)))).toHaveLength(16);
    expect(t.pool.servers[0]?.state).toBe('ejected');
    const failuresSoFar = a.requests.length;
    expect(failuresSoFar).toBeGreaterThanOrEqual(3); // its first permits were in flight together
    // Ejected: nothing reaches it.
    await drive(t.generate(requests(8, 50)));
    expect(a.requests.length).toBe(failuresSoFar);
    // Its time is up; it is back, and the probe succeeds.
    aDown = false;
    await vi.advanceTimersByTimeAsync(1_000);
    const third = t.generate(requests(8, 100));
    await vi.advanceTimersByTimeAsync(1);
    expect(a.inFlight).toBe(1); // one probe, not a full share
    await vi.advanceTimersByTimeAsync(200);
    await third;
    expect(t.pool.servers[0]?.state).toBe('healthy');
  });

  it('a failed probe ejects again for twice as long', async () => {
    const a = fakeServer({ latencyMs: 10, behave: () => 'reset' });
    const b = fakeServer({ latencyMs: 10 });
    const events: Record<string, unknown>[] = [];
    const t = new OpenAiTeacher({
      model: 'm', style: 'raw', server: spec({ ejection: { afterFailures: 2, forMs: 1_000, maxMs: 60_000 } }),
      transport: fakeTransport({ [A]: a, [B]: b }), random: () => 0, onEvent: (e) => events.push(e),
    });
    const ejections = () => events.filter((e) => e.event === 'server-ejected');
    for (let round = 0; ejections().length < 3; round++) await drive(t.generate(requests(4, round * 4)));
    expect(ejections().map((e) => e.forMs)).toEqual([1_000, 2_000, 4_000]);
    // Between ejections, one probe each, and no other request.
    expect(events.filter((e) => e.event === 'server-probe')).toHaveLength(2);
    expect(events.some((e) => e.event === 'server-restored')).toBe(false);
  });

  it('rejects the batch with a non-retriable error when the server refuses a request, at once', async () => {
    const a = fakeServer({ latencyMs: 10, behave: (_, n) => (n === 2 ? { status: 400 } : 'ok') });
    const t = teacher({ [A]: a });
    const done = t.generate(requests(3)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect(await done).toMatchObject({ code: 'SERVER_REJECTED', retriable: false });
    expect(a.requests).toHaveLength(3);
  });

  it('rejects with a retriable error after the last attempt, and its retry resends only what failed', async () => {
    let broken = true;
    const a = fakeServer({ latencyMs: 10, behave: () => 'ok' });
    a.behave = () => 'ok';
    const b = fakeServer({ latencyMs: 10 });
    const servers = { [A]: a };
    const t = teacher(servers, { requestRetry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 10, multiplier: 1 } });
    a.behave = (_, n) => {
      const req = a.requests[n - 1]?.body as { prompt: string };
      return broken && req.prompt === 'prompt 1' ? { status: 503 } : 'ok';
    };
    const failed = t.generate(requests(3)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(200);
    expect(await failed).toMatchObject({ code: 'SERVER_UNAVAILABLE', retriable: true });
    expect(a.requests).toHaveLength(4); // prompts 0 and 2 once, prompt 1 twice
    broken = false;
    const retried = t.generate(requests(3));
    await vi.advanceTimersByTimeAsync(200);
    expect((await retried).map((r) => r.text)).toEqual(['reply to prompt 0', 'reply to prompt 1', 'reply to prompt 2']);
    expect(a.requests).toHaveLength(5); // only prompt 1 again
    expect(b.requests).toHaveLength(0);
  });

  it('sends the API key from the named environment variable, and refuses to start without it', async () => {
    const a = fakeServer({ latencyMs: 1 });
    const t = new OpenAiTeacher({ model: 'm', style: 'raw', server: spec({ baseUrls: [A], apiKeyEnv: 'MY_KEY' }), transport: fakeTransport({ [A]: a }), env: { MY_KEY: 's3cret' } });
    const done = t.generate(requests(1));
    await vi.advanceTimersByTimeAsync(10);
    await done;
    expect(a.requests[0]?.headers.authorization).toBe('Bearer s3cret');
    expect(() => new OpenAiTeacher({ model: 'm', style: 'raw', server: spec({ baseUrls: [A], apiKeyEnv: 'MY_KEY' }), env: {} })).toThrow(
      /apiKeyEnv: the environment variable MY_KEY is not set/,
    );
  });

  it('maps the generation options per dialect and refuses what the server cannot honour', async () => {
    const a = fakeServer({ latencyMs: 1 });
    const options = { maxNewTokens: 9, temperature: 0.7, topP: 0.9, topK: 20, seed: 5, stop: ['\n\n'] };
    const llama = teacher({ [A]: a });
    const done = llama.generate([{ prompt: 'p', options }]);
    await vi.advanceTimersByTimeAsync(10);
    await done;
    expect(a.requests[0]?.body).toEqual({ model: 'm', prompt: 'p', max_tokens: 9, temperature: 0.7, top_p: 0.9, top_k: 20, seed: 5, stop: ['\n\n'], min_p: 0, repeat_penalty: 1 });
    const strict = teacher({ [A]: a }, { dialect: 'openai' });
    await expect(strict.generate([{ prompt: 'p', options }])).rejects.toThrow(/requests\[0\]\.options\.topK/);
  });

  it('is closed: new batches and waiting requests fail with SHUT_DOWN', async () => {
    const a = fakeServer({ latencyMs: 100 });
    const t = teacher({ [A]: a }, { concurrency: { initial: 1, min: 1, max: 1 } });
    const pending = t.generate(requests(2)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1);
    await t.close();
    await vi.advanceTimersByTimeAsync(200);
    expect(await pending).toMatchObject({ code: 'SHUT_DOWN' });
    await expect(t.generate(requests(1))).rejects.toMatchObject({ code: 'SHUT_DOWN' });
  });
});
