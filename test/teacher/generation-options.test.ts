import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/pipeline/topology.js';
import { validateRequests } from '../../src/teacher/generation-options.js';
import { unsupportedGeneration, samplingFields } from '../../src/teacher/openai/openai-options.js';
import type { GenerationOptions } from '../../src/teacher/types.js';

const request = (options: Partial<GenerationOptions>) => [{ prompt: 'p', options: { maxNewTokens: 8, temperature: 0, ...options } }];

describe('decoding controls at the boundaries', () => {
  it.each([
    [{ repetitionPenalty: 0 }, 'requests[0].options.repetitionPenalty: expected a number > 0 (1 = off), got 0'],
    [{ noRepeatNgramSize: 1.5 }, 'requests[0].options.noRepeatNgramSize: expected an integer >= 0 (0 = off), got 1.5'],
    [{ minNewTokens: 9 }, 'requests[0].options.minNewTokens: expected an integer from 0 to maxNewTokens (8), got 9'],
  ])('the engine refuses %j, naming the field', (options, message) => {
    expect(() => validateRequests(request(options))).toThrow(message);
  });

  it('the engine takes valid controls', () => {
    expect(() => validateRequests(request({ repetitionPenalty: 1.2, noRepeatNgramSize: 3, minNewTokens: 8 }))).not.toThrow();
  });

  it('a topology sets them per teacher, validated by field', () => {
    const topology = (generation: Record<string, unknown>) => ({
      input: { topic: 'in' }, output: { topic: 'out' }, deadLetter: { topic: 'dlq' }, consumer: { group: 'g' },
      teachers: [{ annotation: 'cot', model: 'm', generation }],
    });
    const t = parseTopology(topology({ maxNewTokens: 32, repetitionPenalty: 1.2, noRepeatNgramSize: 4, minNewTokens: 8 }));
    expect(t.teachers[0]!.generation).toEqual({ maxNewTokens: 32, temperature: 0, repetitionPenalty: 1.2, noRepeatNgramSize: 4, minNewTokens: 8 });
    expect(() => parseTopology(topology({ maxNewTokens: 4, minNewTokens: 8 }))).toThrow('teachers[0].generation.minNewTokens: expected at most maxNewTokens (4), got 8');
    expect(() => parseTopology(topology({ repetitionPenalty: -1 }))).toThrow('teachers[0].generation.repetitionPenalty: expected a positive number, got -1');
  });

  it('an inference server refuses the controls it cannot honour, and maps the ones it can', () => {
    const o: GenerationOptions = { maxNewTokens: 8, temperature: 0 };
    expect(unsupportedGeneration('openai', { ...o, noRepeatNgramSize: 3 })?.field).toBe('noRepeatNgramSize');
    expect(unsupportedGeneration('llama.cpp', { ...o, minNewTokens: 3 })?.field).toBe('minNewTokens');
    expect(unsupportedGeneration('openai', { ...o, repetitionPenalty: 1.2 })?.field).toBe('repetitionPenalty');
    expect(unsupportedGeneration('vllm', { ...o, repetitionPenalty: 1.2, minNewTokens: 3 })).toBeUndefined();
    expect(samplingFields('vllm', { ...o, repetitionPenalty: 1.2, minNewTokens: 3 })).toMatchObject({ repetition_penalty: 1.2, min_tokens: 3 });
    expect(samplingFields('llama.cpp', { ...o, repetitionPenalty: 1.2 })).toMatchObject({ repeat_penalty: 1.2 });
  });

  it('a chat teacher of the topology takes task instructions; a raw one, or a user text without {prompt}, is refused', () => {
    const topology = (teacher: Record<string, unknown>) => ({
      input: { topic: 'in' }, output: { topic: 'out' }, deadLetter: { topic: 'dlq' }, consumer: { group: 'g' },
      teachers: [{ annotation: 'cot', model: 'm', ...teacher }],
    });
    const t = parseTopology(topology({ promptStyle: 'chat', instructions: { system: 'Explain.', user: 'Task: {prompt}' } }));
    expect(t.teachers[0]!.instructions).toEqual({ system: 'Explain.', user: 'Task: {prompt}' });
    expect(() => parseTopology(topology({ instructions: { system: 'Explain.' } }))).toThrow(/^teachers\[0\]\.instructions: expected a teacher of kind onnx with promptStyle chat/);
    expect(() => parseTopology(topology({ promptStyle: 'chat', instructions: { user: 'Task' } }))).toThrow('teachers[0].instructions.user: expected a text containing {prompt}, got "Task"');
    expect(() => parseTopology(topology({ promptStyle: 'chat', instructions: { role: 'x' } }))).toThrow('teachers[0].instructions.role: unknown field');
  });
});
