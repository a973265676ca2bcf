/** In-memory fakes at the pipeline's interfaces, for unit tests only. */
import { TeacherlmError } from '../../src/errors.js';
import type { GenerationTask, SampleJob } from '../../src/pipeline/items.js';
import type { SourceRecord } from '../../src/pipeline/ports.js';
import type { TeacherSpec } from '../../src/pipeline/topology.js';
import type { GenerateCallOptions, GenerationRequest, GenerationResult, TextGenerator } from '../../src/teacher/types.js';

export function sourceRecord(offset: number, value: string | Buffer | null = null, partition = 0, topic = 'in'): SourceRecord {
  return {
    topic,
    partition,
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: {},
    timestamp: '1700000000000',
  };
}

export const teacherSpec = (annotation: TeacherSpec['annotation'] = 'cot'): TeacherSpec => ({
  annotation,
  kind: 'echo',
  model: 'echo',
  promptStyle: 'raw',
  generation: { maxNewTokens: 4, temperature: 0 },
});

/** Tasks whose prompts are the given strings, each its own sample. */
export function tasks(...prompts: string[]): GenerationTask[] {
  return prompts.map((prompt, i) => {
    const job: SampleJob = {
      record: sourceRecord(i),
      sample: { id: prompt, task: 't', question: 'q', answer: 'a', context: null, metadata: {} },
      expected: 1,
      outcomes: [],
    };
    return { job, teacher: teacherSpec(), engineKey: 'echo', prompt, promptTokens: 1 };
  });
}

export function resultFor(prompt: string): GenerationResult {
  return {
    text: `out:${prompt}`,
    promptTokens: 1,
    generatedTokens: 1,
    finishReason: 'eos',
    timings: { queuedMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 0 },
  };
}

/**
 * A scripted generator. `fail(prompts, call)` returns an error to throw for that call
 * (call numbers start at 1) or undefined to succeed. Records every call's prompts.
 */
export class ScriptedGenerator implements TextGenerator {
  readonly modelId = 'scripted';
  readonly calls: { prompts: string[]; at: number; isolated: boolean }[] = [];

  constructor(
    private readonly fail: (prompts: string[], call: number) => TeacherlmError | undefined = () => undefined,
    readonly concurrency = 1,
  ) {}

  countTokens(prompt: string): number {
    return prompt.length;
  }

  async generate(requests: GenerationRequest[], call: GenerateCallOptions = {}): Promise<GenerationResult[]> {
    const prompts = requests.map((r) => r.prompt);
    this.calls.push({ prompts, at: Date.now(), isolated: call.isolated === true });
    const error = this.fail(prompts, this.calls.length);
    if (error) throw error;
    return prompts.map(resultFor);
  }

  async close(): Promise<void> {}
}

export const poison = (word: string, retriable = false) => (prompts: string[]) =>
  prompts.includes(word) ? new TeacherlmError('GENERATION_FAILED', `cannot generate for ${word}`, { retriable }) : undefined;
