import { describe, expect, it } from 'vitest';
import { bindTeachers, engineKeyOf } from '../../src/pipeline/teacher-bindings.js';
import { parseTopology } from '../../src/pipeline/topology.js';
import { createChatTemplate } from '../../src/teacher/chat-template.js';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';
import { loadTokenizerConfig } from '../../src/teacher/model-files.js';
import type { RawSample } from '../../src/teacher/types.js';

const TINY = 'test/fixtures/models/tiny-llama';
const sample: RawSample = { id: '1', task: 'CREAK', question: 'Is  water wet?   (A) True (B) False', answer: '(A)' };

function bindings(promptStyle: 'raw' | 'chat') {
  const teachers = ['fundamentals', 'cot', 'mistakes'].flatMap((annotation) => [
    { annotation, model: TINY, promptStyle },
  ]);
  const onnx = parseTopology({ input: { topic: 'i' }, output: { topic: 'o' }, deadLetter: { topic: 'd' }, consumer: { group: 'g' }, teachers });
  const served = parseTopology({
    input: { topic: 'i' }, output: { topic: 'o' }, deadLetter: { topic: 'd' }, consumer: { group: 'g' },
    teachers: teachers.map((t) => ({ ...t, kind: 'openai', model: 'tiny', baseUrls: ['http://127.0.0.1:1/v1'] })),
  });
  const gen = new EchoTeacher();
  const generators = (t: typeof onnx) => new Map(t.teachers.map((teacher) => [engineKeyOf(teacher), gen]));
  return { onnx: bindTeachers(onnx, generators(onnx)), served: bindTeachers(served, generators(served)) };
}

describe('openai teachers build the in-process engine\'s prompts', () => {
  it('raw: the same prompt bytes', () => {
    const { onnx, served } = bindings('raw');
    served.forEach((b, i) => expect(Buffer.from(b.promptFor(sample))).toEqual(Buffer.from(onnx[i]!.promptFor(sample))));
  });

  it("chat: the user turn the server templates is the text the engine templates itself", () => {
    const { onnx, served } = bindings('chat');
    const template = createChatTemplate(loadTokenizerConfig(TINY))!;
    served.forEach((b, i) => {
      expect(template.render(b.promptFor(sample))).toBe(onnx[i]!.promptFor(sample));
      expect(template.render(b.promptFor(sample)).length).toBeGreaterThan(b.promptFor(sample).length);
    });
  });
});
