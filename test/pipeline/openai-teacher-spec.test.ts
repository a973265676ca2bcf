import { describe, expect, it } from 'vitest';
import { engineKeyOf } from '../../src/pipeline/teacher-bindings.js';
import { loadTopology, parseTopology } from '../../src/pipeline/topology.js';

const base = {
  input: { topic: 'in' },
  output: { topic: 'out' },
  deadLetter: { topic: 'dead' },
  consumer: { group: 'g' },
};
const withTeacher = (teacher: Record<string, unknown>) => ({ ...base, teachers: [{ annotation: 'cot', kind: 'openai', model: 'smollm2', ...teacher }] });
const load = (teacher: Record<string, unknown>) => parseTopology(withTeacher(teacher), '/proj');

describe('topology: kind openai', () => {
  it('reads the servers, fills defaults, and keeps the model as a served name (not a path)', () => {
    const t = load({ baseUrls: ['http://gpu-1:8000/v1/', 'http://gpu-2:8000/v1'], apiKeyEnv: 'VLLM_API_KEY', dialect: 'vllm', tokenizer: 'models/m' });
    expect(t.teachers[0]).toMatchObject({
      kind: 'openai',
      model: 'smollm2',
      tokenizer: '/proj/models/m',
      server: {
        baseUrls: ['http://gpu-1:8000/v1', 'http://gpu-2:8000/v1'],
        apiKeyEnv: 'VLLM_API_KEY',
        dialect: 'vllm',
        timeouts: { connectMs: 5_000, requestMs: 120_000 },
        concurrency: { initial: 4, min: 1, max: 64 },
        requestRetry: { maxAttempts: 5 },
        ejection: { afterFailures: 5 },
      },
    });
    expect(engineKeyOf(t.teachers[0]!)).toBe('openai:raw:smollm2@http://gpu-1:8000/v1,http://gpu-2:8000/v1');
  });

  it.each([
    [{ baseUrls: [] }, /teachers\[0\]\.baseUrls: expected a non-empty list/],
    [{ baseUrls: ['gpu-1:8000'] }, /teachers\[0\]\.baseUrls\[0\]: expected an http\(s\) URL/],
    [{ baseUrls: ['http://a/v1', 'http://a/v1/'] }, /baseUrls: expected distinct URLs/],
    [{ baseUrls: ['http://a/v1'], apiKeyEnv: 'sk-abc123 def' }, /apiKeyEnv: expected the name of an environment variable \(not the key itself\), got "\(hidden\)"/],
    [{ baseUrls: ['http://a/v1'], dialect: 'tgi' }, /dialect: expected one of openai, vllm, llama.cpp/],
    [{ baseUrls: ['http://a/v1'], concurrency: { initial: 8, max: 4 } }, /concurrency: expected min <= initial <= max/],
    [{ baseUrls: ['http://a/v1'], timeouts: { requestMs: 0 } }, /timeouts\.requestMs: expected a positive integer/],
    [{ baseUrls: ['http://a/v1'], timeouts: { readMs: 5 } }, /timeouts\.readMs: unknown field/],
    [{ baseUrls: ['http://a/v1'], generation: { topK: 20 } }, /generation\.topK: expected an option the openai dialect honours \(the OpenAI API has no top_k/],
    [{ baseUrls: ['http://a/v1'], generation: { stop: ['a', 'b', 'c', 'd', 'e'] } }, /generation\.stop: .*at most 4 stop strings/],
  ])('refuses %j at load with the field named', (teacher, message) => {
    expect(() => load(teacher)).toThrow(message);
  });

  it('accepts top_k where the dialect has it', () => {
    expect(load({ baseUrls: ['http://a/v1'], dialect: 'llama.cpp', generation: { topK: 20 } }).teachers[0]?.generation.topK).toBe(20);
  });

  it('loads the shipped vLLM topology: the three teachers share one server pool', () => {
    const t = loadTopology('topologies/vllm.yaml');
    expect(new Set(t.teachers.map(engineKeyOf))).toEqual(new Set(['openai:chat:HuggingFaceTB/SmolLM2-1.7B-Instruct@http://gpu-1:8000/v1,http://gpu-2:8000/v1']));
    expect(t.teachers.every((teacher) => teacher.server?.apiKeyEnv === 'VLLM_API_KEY' && teacher.server.dialect === 'vllm')).toBe(true);
  });

  it('keeps the server fields to openai teachers', () => {
    expect(() => parseTopology({ ...base, teachers: [{ annotation: 'cot', model: 'm', baseUrls: ['http://a/v1'] }] })).toThrow(/teachers\[0\]\.baseUrls: unknown field/);
  });
});
