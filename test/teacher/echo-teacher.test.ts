import { describe, expect, it } from 'vitest';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';

const opts = (maxNewTokens: number) => ({ maxNewTokens, temperature: 0 });

describe('EchoTeacher', () => {
  it('answers deterministically from the prompt, one result per request in order', async () => {
    const echo = new EchoTeacher({ concurrency: 2 });
    const prompts = ['Q: one two three A: x. Trigger:', 'short'];
    const a = await echo.generate(prompts.map((prompt) => ({ prompt, options: opts(3) })));
    const b = await echo.generate(prompts.map((prompt) => ({ prompt, options: opts(3) })));
    expect(a).toEqual(b);
    expect(a.map((r) => r.text)).toEqual(['echo: x. Trigger:', 'echo: short']);
    expect(a[0]).toMatchObject({ promptTokens: 7, generatedTokens: 3, finishReason: 'length' });
    expect(a[1]).toMatchObject({ promptTokens: 1, generatedTokens: 2, finishReason: 'eos' });
    expect(echo.concurrency).toBe(2);
    expect(echo.modelId).toBe('echo');
  });

  it('counts whitespace words as tokens and refuses work once closed', async () => {
    const echo = new EchoTeacher();
    expect(echo.countTokens(' a  b\nc ')).toBe(3);
    await echo.close();
    await expect(echo.generate([{ prompt: 'a', options: opts(2) }])).rejects.toThrow(/closed/);
    expect(() => new EchoTeacher({ concurrency: 0 })).toThrow('concurrency: expected a positive integer, got 0');
  });

  it('validates requests as the engine does, naming the field', async () => {
    const echo = new EchoTeacher();
    await expect(echo.generate([{ prompt: 'a', options: opts(0) }])).rejects.toThrow('requests[0].options.maxNewTokens');
  });
});
