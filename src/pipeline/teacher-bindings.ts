/**
 * Binds a topology's teachers to their engines and prompt builders. Teachers that share
 * a kind and model share one engine (one worker pool), so their tasks batch together.
 */
import { TeacherlmError } from '../errors.js';
import { type ChatTemplate, createChatTemplate } from '../teacher/chat-template.js';
import { loadTokenizerConfig } from '../teacher/model-files.js';
import { buildPrompt } from '../teacher/prompts.js';
import type { RawSample, TextGenerator } from '../teacher/types.js';
import type { TeacherBinding } from './expand.js';
import type { TeacherSpec, Topology } from './topology.js';

/**
 * The engine a teacher runs on: `echo`, `onnx:<model folder>`, or
 * `openai:<style>:<model>@<base URLs>` (one server pool per model, prompt style and servers).
 */
export function engineKeyOf(teacher: TeacherSpec): string {
  if (teacher.kind === 'echo') return 'echo';
  if (teacher.kind === 'openai') return `openai:${teacher.promptStyle}:${teacher.model}@${teacher.server?.baseUrls.join(',')}`;
  return `onnx:${teacher.model}`;
}

/** Distinct engines a topology needs, with one teacher spec each (for its model and kind). */
export function enginesOf(topology: Topology): Map<string, TeacherSpec> {
  const engines = new Map<string, TeacherSpec>();
  for (const teacher of topology.teachers) if (!engines.has(engineKeyOf(teacher))) engines.set(engineKeyOf(teacher), teacher);
  return engines;
}

const PROBE: RawSample = { id: 'probe', task: 'probe', question: 'Is this a probe? (A) Yes (B) No', answer: '(A)' };

/**
 * One binding per teacher. Chat-style prompts use the model folder's chat template; an
 * `openai` teacher's chat prompt is the user turn itself (the TeacherLM prompt, as raw),
 * which the server wraps in the same template.
 * Every prompt builder is tried once on a probe sample, so a configuration that cannot
 * build prompts fails here, at start, not on each sample. Teachers of one model folder
 * share its chat template, read and compiled once.
 */
export function bindTeachers(topology: Topology, generators: ReadonlyMap<string, TextGenerator>): TeacherBinding[] {
  const templates = new Map<string, ChatTemplate | undefined>();
  const templateOf = (modelDir: string): ChatTemplate | undefined => {
    if (!templates.has(modelDir)) templates.set(modelDir, createChatTemplate(loadTokenizerConfig(modelDir)));
    return templates.get(modelDir);
  };
  return topology.teachers.map((teacher, i) => {
    const engineKey = engineKeyOf(teacher);
    const generator = generators.get(engineKey);
    if (!generator) throw new TeacherlmError('INVALID_OPTIONS', `teachers[${i}]: no engine was given for ${engineKey}`);
    const template = teacher.promptStyle === 'chat' && teacher.kind === 'onnx' ? templateOf(teacher.model) : undefined;
    const style = teacher.kind === 'openai' ? 'raw' : teacher.promptStyle;
    const promptFor = (sample: RawSample) => buildPrompt(sample, teacher.annotation, style, template, teacher.instructions);
    try {
      promptFor(PROBE);
    } catch (err) {
      throw new TeacherlmError('INVALID_TOPOLOGY', `teachers[${i}].promptStyle: ${(err as Error).message}`, { cause: err });
    }
    return { teacher, engineKey, promptFor, countTokens: (prompt: string) => generator.countTokens(prompt) };
  });
}
