/**
 * Topology files (`topologies/*.yaml`): which topics, which teachers, how to batch.
 * Validated once at load, with messages naming the bad field
 * (`batching.maxWaitMs: expected a non-negative number, got "x"`); unknown fields are
 * errors too, so a typo never silently falls back to a default. The pipeline trusts the
 * {@link Topology} this returns.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { TeacherlmError } from '../errors.js';
import { INPUT_FORMATS, type InputFormat } from '../records/decode-raw-sample.js';
import { parseQuality, type QualitySpec } from '../quality/quality-options.js';
import { PROMPT_PLACEHOLDER, type PromptInstructions } from '../teacher/prompts.js';
import { ANNOTATION_KINDS, type AnnotationKind, type GenerationOptions, type PromptStyle } from '../teacher/types.js';
import type { OpenAiServerSpec } from '../teacher/openai/openai-options.js';
import { OPENAI_TEACHER_FIELDS, openAiServer } from './openai-teacher-spec.js';
import { countOrAuto, fail, number, object, oneOf, optionalObject, text, type Obj } from '../topology-fields.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../teacher/retry-bisect.js';
import { AUTO_MAX_BATCH_SIZE, MAX_BATCH_SIZE, autoMaxBatchSize } from '../teacher/batch-size.js';
import { BATCHING_MODES, type Batching } from '../teacher/batching.js';
import { DEFAULT_PROMPT_LOOKUP, MAX_DRAFT_TOKENS } from '../teacher/prompt-lookup.js';

export const TEACHER_KINDS = ['onnx', 'echo', 'openai'] as const;
/**
 * `at-least-once`: outputs produced at once (idempotent producer), input offsets committed
 * by watermark afterwards; a crash between the two writes those outputs again.
 * `exactly-once`: per input partition, outputs and offsets in one transaction.
 */
export const DELIVERY_MODES = ['exactly-once', 'at-least-once'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];
export const DEFAULT_DELIVERY: DeliveryMode = 'at-least-once';
export type TeacherKind = (typeof TEACHER_KINDS)[number];
export const ENGINE_DEVICES = ['auto', 'cpu', 'cuda'] as const;
export const ENGINE_DTYPES = ['fp32', 'fp16', 'int8'] as const;
/**
 * How the output and dead-letter topics are written: `avro`, Avro single-object encoding
 * (readers need our schema files, no service); `confluent`, the Confluent wire format
 * with the schemas in a registry (what the Kafka ecosystem's deserializers read).
 */
export const OUTPUT_FORMATS = ['avro', 'confluent'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface TopicSpec {
  topic: string;
  /** Used when the pipeline creates the topic; an existing topic is left as it is. */
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

export interface TeacherSpec {
  /** Which TeacherLM annotation this teacher writes. */
  annotation: AnnotationKind;
  /**
   * `onnx`: a model run by the engine; `echo`: deterministic text, no model (Kafka-path
   * measurements); `openai`: a model served over the OpenAI-compatible API (`server`).
   */
  kind: TeacherKind;
  /**
   * `onnx`: the model folder (absolute after load; relative paths resolve against the
   * working directory). `openai`: the served model's name. Unused by echo.
   */
  model: string;
  /** `openai` only: the servers and how to drive them. */
  server?: OpenAiServerSpec;
  /** Chat style only: task instructions around the reference prompt (README, "Quality gate"). */
  instructions?: PromptInstructions;
  /** `onnx` only: ban option labels the sample's question does not offer ("(C)" under (A) and (B)) while decoding (src/quality/invented-options.ts). */
  banInventedOptions?: boolean;
  /** `openai` only: a local model folder whose tokenizer counts prompt tokens exactly (else estimated). */
  tokenizer?: string;
  promptStyle: PromptStyle;
  generation: GenerationOptions;
}

export interface BatchingSpec {
  /**
   * Most tasks (prompts) per engine call; with continuous batching, most prompts in one
   * engine worker's running batch. `auto` in the file: autoMaxBatchSize (batch-size.ts: 64, 32 batching statically).
   */
  maxBatchSize: number;
  /** Most padded tokens per batch: size x longest prompt. */
  maxBatchTokens: number;
  /** Longest a task waits for its batch to fill before it goes anyway. */
  maxWaitMs: number;
  /** Input records in flight before source partitions are paused. */
  queueLimit: number;
}

export interface EngineSpec {
  /** A number, or `auto`: chosen for the machine at hand (src/teacher/engine-layout.ts). */
  workers: number | 'auto';
  threads: number | 'auto';
  device: (typeof ENGINE_DEVICES)[number];
  /** `continuous` (default): prompts join running batches between steps; `static`: closed batches. */
  batching: Batching;
  /** Which weights the onnx teachers load (src/teacher/model-files.ts). */
  dtype: (typeof ENGINE_DTYPES)[number];
  /** A file under each onnx teacher's `<model>/onnx/` to load instead of the dtype's own (an int8 variant, say); unset: the dtype's. */
  onnxFile?: string;
  /** Speculative decoding by prompt lookup (src/teacher/prompt-lookup.ts): tokens drafted per greedy row, 0 = off. */
  promptLookupTokens: number;
  /** Speculate only while a worker's running batch holds at most this many rows. */
  promptLookupMaxRows: number;
}

/** The engine calls' failure policy (`retryBisect`), as the topology sets it. */
export type RetrySpec = RetryPolicy;

export interface ConsumerSpec {
  group: string;
  /** Where a group without a committed offset starts. */
  fromBeginning: boolean;
  /** How often completed offsets are committed (at-least-once) or transacted (exactly-once). */
  commitIntervalMs: number;
  /**
   * How long the group coordinator waits for a silent member before giving its partitions
   * away: after a crash, the time to the next worker's first output. kafkajs 2.2.4 has no
   * static membership (`group.instance.id`), so this is the lever. The broker bounds it
   * (`group.min.session.timeout.ms`, 6 s by default).
   */
  sessionTimeoutMs: number;
  /** How often the member heartbeats; at most a third of the session timeout. */
  heartbeatIntervalMs: number;
}

export interface Topology {
  name: string;
  input: TopicSpec & { format: InputFormat };
  /** `format` also applies to the dead-letter topic. */
  output: TopicSpec & { format: OutputFormat };
  deadLetter: TopicSpec;
  consumer: ConsumerSpec;
  delivery: DeliveryMode;
  teachers: TeacherSpec[];
  batching: BatchingSpec;
  engine: EngineSpec;
  retry: RetrySpec;
  /** The quality gate between generation and gather; undefined: no gate. */
  quality?: QualitySpec;
}

export const DEFAULT_CONSUMER: Omit<ConsumerSpec, 'group'> = { fromBeginning: true, commitIntervalMs: 1_000, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 };
export const DEFAULT_BATCHING: BatchingSpec = { maxBatchSize: AUTO_MAX_BATCH_SIZE, maxBatchTokens: 8192, maxWaitMs: 50, queueLimit: 256 };
export const DEFAULT_ENGINE: EngineSpec = {
  workers: 'auto',
  threads: 'auto',
  device: 'auto',
  batching: 'continuous',
  dtype: 'fp32',
  promptLookupTokens: DEFAULT_PROMPT_LOOKUP.tokens,
  promptLookupMaxRows: DEFAULT_PROMPT_LOOKUP.maxRows,
};
export const DEFAULT_RETRY: RetrySpec = { ...DEFAULT_RETRY_POLICY };
export const DEFAULT_GENERATION: GenerationOptions = { maxNewTokens: 64, temperature: 0 };

function topic(value: unknown, field: string, extra: readonly string[] = []): TopicSpec & Obj {
  const o = object(value, field, ['topic', 'partitions', 'replicationFactor', 'configs', ...extra]);
  const configs = optionalObject(o.configs, `${field}.configs`, Object.keys(o.configs ?? {}));
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(configs)) {
    if (typeof item !== 'string' && typeof item !== 'number') fail(`${field}.configs.${key}`, 'a string or number', item);
    out[key] = String(item);
  }
  return {
    ...o,
    topic: text(o.topic, `${field}.topic`),
    partitions: number(o.partitions, `${field}.partitions`, 1, { integer: true, positive: true }),
    replicationFactor: number(o.replicationFactor, `${field}.replicationFactor`, 1, { integer: true, positive: true }),
    configs: out,
  };
}

function generation(value: unknown, field: string): GenerationOptions {
  const o = optionalObject(value, field, ['maxNewTokens', 'temperature', 'topK', 'topP', 'seed', 'stop', 'repetitionPenalty', 'noRepeatNgramSize', 'minNewTokens']);
  const options: GenerationOptions = {
    maxNewTokens: number(o.maxNewTokens, `${field}.maxNewTokens`, DEFAULT_GENERATION.maxNewTokens, { integer: true, positive: true }),
    temperature: number(o.temperature, `${field}.temperature`, DEFAULT_GENERATION.temperature, { min: 0 }),
  };
  if (o.topK !== undefined) options.topK = number(o.topK, `${field}.topK`, 0, { integer: true, positive: true });
  if (o.topP !== undefined) {
    options.topP = number(o.topP, `${field}.topP`, 1, { positive: true });
    if (options.topP > 1) fail(`${field}.topP`, 'a number in (0, 1]', o.topP);
  }
  if (o.seed !== undefined) options.seed = number(o.seed, `${field}.seed`, 0, { integer: true, min: 0 });
  if (o.repetitionPenalty !== undefined) options.repetitionPenalty = number(o.repetitionPenalty, `${field}.repetitionPenalty`, 1, { positive: true });
  if (o.noRepeatNgramSize !== undefined) options.noRepeatNgramSize = number(o.noRepeatNgramSize, `${field}.noRepeatNgramSize`, 0, { integer: true, min: 0 });
  if (o.minNewTokens !== undefined) {
    options.minNewTokens = number(o.minNewTokens, `${field}.minNewTokens`, 0, { integer: true, min: 0 });
    if (options.minNewTokens > options.maxNewTokens) fail(`${field}.minNewTokens`, `at most maxNewTokens (${options.maxNewTokens})`, o.minNewTokens);
  }
  if (o.stop !== undefined) {
    if (!Array.isArray(o.stop)) fail(`${field}.stop`, 'a list of strings', o.stop);
    options.stop = o.stop.map((s, i) => text(s, `${field}.stop[${i}]`));
  }
  return options;
}

function teacher(value: unknown, field: string, baseDir: string): TeacherSpec {
  const common = ['annotation', 'kind', 'model', 'promptStyle', 'generation', 'instructions', 'banInventedOptions'];
  const kind = oneOf((value as Obj | null)?.kind, `${field}.kind`, TEACHER_KINDS, 'onnx');
  const o = object(value, field, kind === 'openai' ? [...common, ...OPENAI_TEACHER_FIELDS] : common);
  const model = kind === 'echo' ? (o.model === undefined ? 'echo' : text(o.model, `${field}.model`)) : text(o.model, `${field}.model`);
  const spec: TeacherSpec = {
    annotation: oneOf(o.annotation, `${field}.annotation`, ANNOTATION_KINDS),
    kind,
    model: kind !== 'onnx' || isAbsolute(model) ? model : resolve(baseDir, model),
    promptStyle: oneOf(o.promptStyle, `${field}.promptStyle`, ['raw', 'chat'] as const, 'raw'),
    generation: generation(o.generation, `${field}.generation`),
  };
  if (o.instructions !== undefined) {
    if (spec.promptStyle !== 'chat' || kind !== 'onnx') fail(`${field}.instructions`, "a teacher of kind onnx with promptStyle chat (raw prompts are the reference's, byte for byte)", o.instructions);
    const ins = object(o.instructions, `${field}.instructions`, ['system', 'user']);
    spec.instructions = {};
    if (ins.system !== undefined) spec.instructions.system = text(ins.system, `${field}.instructions.system`);
    if (ins.user !== undefined) {
      const user = text(ins.user, `${field}.instructions.user`);
      if (!user.includes(PROMPT_PLACEHOLDER)) fail(`${field}.instructions.user`, `a text containing ${PROMPT_PLACEHOLDER}`, user);
      spec.instructions.user = user;
    }
  }
  if (o.banInventedOptions !== undefined) {
    if (typeof o.banInventedOptions !== 'boolean') fail(`${field}.banInventedOptions`, 'true or false', o.banInventedOptions);
    if (o.banInventedOptions && kind !== 'onnx') fail(`${field}.banInventedOptions`, 'a teacher of kind onnx (it bans token sequences while decoding)', o.banInventedOptions);
    if (o.banInventedOptions) spec.banInventedOptions = true;
  }
  if (kind === 'openai') {
    spec.server = openAiServer(o, field, spec.generation);
    if (o.tokenizer !== undefined) spec.tokenizer = resolve(baseDir, text(o.tokenizer, `${field}.tokenizer`));
  }
  return spec;
}

function consumerSpec(c: Obj): ConsumerSpec {
  const sessionTimeoutMs = number(c.sessionTimeoutMs, 'consumer.sessionTimeoutMs', DEFAULT_CONSUMER.sessionTimeoutMs, { integer: true, positive: true });
  const heartbeatIntervalMs = number(c.heartbeatIntervalMs, 'consumer.heartbeatIntervalMs', DEFAULT_CONSUMER.heartbeatIntervalMs, { integer: true, positive: true });
  if (heartbeatIntervalMs * 3 > sessionTimeoutMs) {
    fail('consumer.heartbeatIntervalMs', `at most a third of consumer.sessionTimeoutMs (${sessionTimeoutMs})`, heartbeatIntervalMs);
  }
  return {
    group: text(c.group, 'consumer.group'),
    fromBeginning: (c.fromBeginning as boolean | undefined) ?? DEFAULT_CONSUMER.fromBeginning,
    commitIntervalMs: number(c.commitIntervalMs, 'consumer.commitIntervalMs', DEFAULT_CONSUMER.commitIntervalMs, { integer: true, positive: true }),
    sessionTimeoutMs,
    heartbeatIntervalMs,
  };
}

/**
 * Validates a parsed topology document and fills defaults. Relative model paths resolve
 * against `baseDir` (default: the working directory).
 */
export function parseTopology(doc: unknown, baseDir: string = process.cwd()): Topology {
  const root = object(doc, '', ['name', 'input', 'output', 'deadLetter', 'consumer', 'delivery', 'teachers', 'batching', 'engine', 'retry', 'quality']);
  const input = topic(root.input, 'input', ['format']);
  const output = topic(root.output, 'output', ['format']);
  const consumer = object(root.consumer, 'consumer', ['group', 'fromBeginning', 'commitIntervalMs', 'sessionTimeoutMs', 'heartbeatIntervalMs']);
  if (consumer.fromBeginning !== undefined && typeof consumer.fromBeginning !== 'boolean') {
    fail('consumer.fromBeginning', 'true or false', consumer.fromBeginning);
  }
  if (!Array.isArray(root.teachers) || root.teachers.length === 0) fail('teachers', 'a non-empty list', root.teachers);
  const teachers = root.teachers.map((t, i) => teacher(t, `teachers[${i}]`, baseDir));
  const seen = new Set<string>();
  teachers.forEach((t, i) => {
    if (seen.has(t.annotation)) fail(`teachers[${i}].annotation`, 'each annotation once', t.annotation);
    seen.add(t.annotation);
  });
  const b = optionalObject(root.batching, 'batching', ['maxBatchSize', 'maxBatchTokens', 'maxWaitMs', 'queueLimit']);
  const e = optionalObject(root.engine, 'engine', ['workers', 'threads', 'device', 'batching', 'dtype', 'onnxFile', 'promptLookupTokens', 'promptLookupMaxRows']);
  const r = optionalObject(root.retry, 'retry', ['maxAttempts', 'initialBackoffMs', 'maxBackoffMs', 'multiplier']);
  const topology: Topology = {
    name: text(root.name, 'name', 'unnamed'),
    input: {
      topic: input.topic,
      partitions: input.partitions,
      replicationFactor: input.replicationFactor,
      configs: input.configs,
      format: oneOf(input.format, 'input.format', INPUT_FORMATS, 'auto'),
    },
    output: { ...strip(output), format: oneOf(output.format, 'output.format', OUTPUT_FORMATS, 'avro') },
    deadLetter: strip(topic(root.deadLetter, 'deadLetter')),
    consumer: consumerSpec(consumer),
    delivery: oneOf(root.delivery, 'delivery', DELIVERY_MODES, DEFAULT_DELIVERY),
    teachers,
    batching: {
      maxBatchSize: maxBatchSize(b.maxBatchSize, oneOf(e.batching, 'engine.batching', BATCHING_MODES, DEFAULT_ENGINE.batching)),
      maxBatchTokens: number(b.maxBatchTokens, 'batching.maxBatchTokens', DEFAULT_BATCHING.maxBatchTokens, { integer: true, positive: true }),
      maxWaitMs: number(b.maxWaitMs, 'batching.maxWaitMs', DEFAULT_BATCHING.maxWaitMs, { min: 0 }),
      queueLimit: number(b.queueLimit, 'batching.queueLimit', DEFAULT_BATCHING.queueLimit, { integer: true, positive: true }),
    },
    engine: {
      workers: countOrAuto(e.workers, 'engine.workers', DEFAULT_ENGINE.workers),
      threads: countOrAuto(e.threads, 'engine.threads', DEFAULT_ENGINE.threads),
      device: oneOf(e.device, 'engine.device', ENGINE_DEVICES, DEFAULT_ENGINE.device),
      batching: oneOf(e.batching, 'engine.batching', BATCHING_MODES, DEFAULT_ENGINE.batching),
      dtype: oneOf(e.dtype, 'engine.dtype', ENGINE_DTYPES, DEFAULT_ENGINE.dtype),
      ...(e.onnxFile === undefined ? {} : { onnxFile: onnxFileName(e.onnxFile) }),
      promptLookupTokens: draftTokens(e.promptLookupTokens),
      promptLookupMaxRows: number(e.promptLookupMaxRows, 'engine.promptLookupMaxRows', DEFAULT_ENGINE.promptLookupMaxRows, { integer: true, positive: true }),
    },
    retry: {
      maxAttempts: number(r.maxAttempts, 'retry.maxAttempts', DEFAULT_RETRY.maxAttempts, { integer: true, positive: true }),
      initialBackoffMs: number(r.initialBackoffMs, 'retry.initialBackoffMs', DEFAULT_RETRY.initialBackoffMs, { min: 0 }),
      maxBackoffMs: number(r.maxBackoffMs, 'retry.maxBackoffMs', DEFAULT_RETRY.maxBackoffMs, { min: 0 }),
      multiplier: number(r.multiplier, 'retry.multiplier', DEFAULT_RETRY.multiplier, { min: 1 }),
    },
  };
  const quality = parseQuality(root.quality);
  if (quality) topology.quality = quality;
  const topics = [topology.input.topic, topology.output.topic, topology.deadLetter.topic];
  if (new Set(topics).size !== 3) fail('output.topic', 'input, output and deadLetter topics to differ', topics.join(', '));
  return topology;
}

function strip(spec: TopicSpec): TopicSpec {
  return { topic: spec.topic, partitions: spec.partitions, replicationFactor: spec.replicationFactor, configs: spec.configs };
}

/** Reads and validates a topology file; errors name the file and the field. */
export function loadTopology(path: string, baseDir?: string): Topology {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TeacherlmError('INVALID_TOPOLOGY', `cannot read topology ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parse(source);
  } catch (err) {
    throw new TeacherlmError('INVALID_TOPOLOGY', `${path}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  try {
    const topology = parseTopology(doc, baseDir);
    if (baseDir === undefined) {
      // A relative model path missing from the working directory is looked up beside the
      // topology's project (the folder holding topologies/), so the shipped files work from anywhere.
      const projectDir = dirname(dirname(resolve(path)));
      for (const teacher of topology.teachers) {
        const original = (doc as { teachers: { model?: unknown }[] }).teachers[topology.teachers.indexOf(teacher)]?.model;
        if (teacher.kind !== 'onnx' || typeof original !== 'string' || isAbsolute(original)) continue;
        if (!existsSync(teacher.model) && existsSync(resolve(projectDir, original))) teacher.model = resolve(projectDir, original);
      }
    }
    return topology;
  } catch (err) {
    if (err instanceof TeacherlmError) throw new TeacherlmError(err.code, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** `engine.onnxFile`: a plain file name, looked up under each teacher's own `<model>/onnx/`. */
function onnxFileName(value: unknown): string {
  const name = text(value, 'engine.onnxFile');
  if (/[\\/]/.test(name) || name === '.' || name === '..') fail('engine.onnxFile', "a file name under the model's onnx/ folder, without a path", value);
  return name;
}

/** `engine.promptLookupTokens`: an integer from 0 (no speculation) to MAX_DRAFT_TOKENS. */
function draftTokens(value: unknown): number {
  const tokens = number(value, 'engine.promptLookupTokens', DEFAULT_ENGINE.promptLookupTokens, { integer: true, min: 0 });
  if (tokens > MAX_DRAFT_TOKENS) fail('engine.promptLookupTokens', `an integer from 0 to ${MAX_DRAFT_TOKENS}`, tokens);
  return tokens;
}

/** `batching.maxBatchSize`: auto (batch-size.ts, by the engine's batching mode) or an integer from 1 to MAX_BATCH_SIZE. */
function maxBatchSize(value: unknown, batching: Batching): number {
  const size = countOrAuto(value, 'batching.maxBatchSize', 'auto');
  if (size === 'auto') return autoMaxBatchSize(batching);
  if (size > MAX_BATCH_SIZE) fail('batching.maxBatchSize', `at most ${MAX_BATCH_SIZE}`, size);
  return size;
}
