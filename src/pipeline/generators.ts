/**
 * Starts the engines a topology needs, one per distinct (kind, model): the ONNX engine
 * (worker pool) for `onnx` teachers, the echo teacher for `echo`, a server pool for `openai`.
 */
import { TeacherlmError } from '../errors.js';
import { EchoTeacher } from '../teacher/echo-teacher.js';
import { createEngine } from '../teacher/create-engine.js';
import { loadTokenizerFiles } from '../teacher/model-files.js';
import { OpenAiTeacher } from '../teacher/openai/openai-teacher.js';
import { ModelTokenizer } from '../teacher/tokenizer.js';
import { machineFacts, resolveLayout } from '../teacher/engine-layout.js';
import type { TextGenerator } from '../teacher/types.js';
import { enginesOf } from './teacher-bindings.js';
import type { TeacherSpec, Topology } from './topology.js';

export async function createGenerators(topology: Topology, log: (message: string) => void = () => {}): Promise<Map<string, TextGenerator>> {
  const generators = new Map<string, TextGenerator>();
  try {
    for (const [key, teacher] of enginesOf(topology)) {
      if (teacher.kind === 'echo') {
        // As many batches at once as an engine would run workers (no model: memory is no limit).
        const { workers } = resolveLayout(topology.engine.workers, topology.engine.threads, machineFacts('', false));
        generators.set(key, new EchoTeacher({ concurrency: workers }));
        continue;
      }
      if (teacher.kind === 'openai') {
        generators.set(key, openAiTeacher(teacher, topology, log));
        continue;
      }
      const engine = await createEngine({
        modelDir: teacher.model,
        workers: topology.engine.workers,
        intraOpThreads: topology.engine.threads,
        device: topology.engine.device,
        batching: topology.engine.batching,
        maxBatchSize: topology.batching.maxBatchSize,
        dtype: topology.engine.dtype,
        onnxFile: topology.engine.onnxFile,
        promptLookupTokens: topology.engine.promptLookupTokens,
        promptLookupMaxRows: topology.engine.promptLookupMaxRows,
        log,
      }).catch((err: unknown) => {
        if (err instanceof TeacherlmError && err.code === 'MODEL_INVALID' && !err.hint && teacher.model.endsWith('smollm2-135m-instruct')) {
          throw new TeacherlmError(err.code, err.message, { cause: err, hint: 'import the default model with: teacherlm model import smollm2' });
        }
        throw err;
      });
      generators.set(key, engine);
    }
  } catch (err) {
    await Promise.allSettled([...generators.values()].map((g) => g.close()));
    throw err;
  }
  return generators;
}

/** Enough batches in flight to fill every server's concurrency ceiling, and at least two. */
function openAiTeacher(teacher: TeacherSpec, topology: Topology, log: (message: string) => void): OpenAiTeacher {
  const server = teacher.server as NonNullable<TeacherSpec['server']>;
  const tokenizer = teacher.tokenizer === undefined ? undefined : new ModelTokenizer(loadTokenizerFiles(teacher.tokenizer));
  return new OpenAiTeacher({
    model: teacher.model,
    style: teacher.promptStyle,
    server,
    batchesInFlight: Math.max(2, Math.ceil((server.baseUrls.length * server.concurrency.max) / topology.batching.maxBatchSize)),
    countTokens: tokenizer ? (prompt) => tokenizer.countTokens(prompt) : undefined,
    onEvent: (event) => log(JSON.stringify(event)),
  });
}
