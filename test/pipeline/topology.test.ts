import { AUTO_MAX_BATCH_SIZE, AUTO_STATIC_BATCH_SIZE } from '../../src/teacher/batch-size.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { loadTopology, parseTopology } from '../../src/pipeline/topology.js';
import { DEFAULT_PROMPT_LOOKUP } from '../../src/teacher/prompt-lookup.js';

const minimal = () => ({
  input: { topic: 'in' },
  output: { topic: 'out' },
  deadLetter: { topic: 'dlq' },
  consumer: { group: 'g' },
  teachers: [{ annotation: 'cot', model: 'models/m' }],
});

describe('topology', () => {
  it('loads the shipped topologies', () => {
    const def = loadTopology('topologies/default.yaml', '/base');
    expect(def.input).toMatchObject({ topic: 'samples.raw', format: 'auto' });
    expect(def.output.topic).toBe('samples.augmented');
    expect(def.output.format).toBe('avro');
    expect(def.deadLetter.topic).toBe('samples.dead-letter');
    expect(def.teachers.map((t) => t.annotation)).toEqual(['fundamentals', 'cot', 'mistakes']);
    expect(def.teachers.every((t) => t.kind === 'onnx' && t.promptStyle === 'chat' && t.model === '/base/models/smollm2-135m-instruct')).toBe(true);
    const echo = loadTopology('topologies/echo.yaml');
    expect(echo.teachers.every((t) => t.kind === 'echo')).toBe(true);
    expect(echo.input.format).toBe('auto');
    expect(def.engine).toMatchObject({ workers: 'auto', threads: 'auto', dtype: 'fp32', promptLookupTokens: 4, promptLookupMaxRows: 2 });
    expect(echo.engine.workers).toBe(4);
    expect([def.delivery, echo.delivery]).toEqual(['exactly-once', 'at-least-once']);
  });

  it('reads the engine\'s speculation options, with the engine\'s defaults, and names a bad one', () => {
    expect(parseTopology(minimal(), '/x').engine).toMatchObject({ promptLookupTokens: DEFAULT_PROMPT_LOOKUP.tokens, promptLookupMaxRows: DEFAULT_PROMPT_LOOKUP.maxRows });
    expect(parseTopology({ ...minimal(), engine: { promptLookupTokens: 0, promptLookupMaxRows: 8 } }, '/x').engine).toMatchObject({ promptLookupTokens: 0, promptLookupMaxRows: 8 });
    expect(() => parseTopology({ ...minimal(), engine: { promptLookupTokens: 17 } }, '/x')).toThrow('engine.promptLookupTokens: expected an integer from 0 to 16, got 17');
    expect(() => parseTopology({ ...minimal(), engine: { promptLookupTokens: -1 } }, '/x')).toThrow(/engine\.promptLookupTokens: expected/);
    expect(() => parseTopology({ ...minimal(), engine: { promptLookupMaxRows: 0 } }, '/x')).toThrow(/engine\.promptLookupMaxRows: expected/);
  });

  it('reads engine.onnxFile as a file name, and leaves it unset by default', () => {
    expect(parseTopology(minimal(), '/x').engine.onnxFile).toBeUndefined();
    expect(parseTopology({ ...minimal(), engine: { dtype: 'int8', onnxFile: 'model_buffered_int8_a2w2.onnx' } }, '/x').engine).toMatchObject({
      dtype: 'int8',
      onnxFile: 'model_buffered_int8_a2w2.onnx',
    });
  });

  it('fills defaults', () => {
    const t = parseTopology(minimal(), '/x');
    expect(t.batching).toEqual({ maxBatchSize: AUTO_MAX_BATCH_SIZE, maxBatchTokens: 8192, maxWaitMs: 50, queueLimit: 256 });
    // auto by the engine's batching mode: closed batches stay smaller.
    expect(parseTopology({ ...minimal(), engine: { batching: 'static' } }, '/x').batching.maxBatchSize).toBe(AUTO_STATIC_BATCH_SIZE);
    expect(t.input).toMatchObject({ partitions: 1, replicationFactor: 1, configs: {}, format: 'auto' });
    expect(t.teachers[0]).toMatchObject({ kind: 'onnx', promptStyle: 'raw', model: resolve('/x', 'models/m'), generation: { maxNewTokens: 64, temperature: 0 } });
    expect(t.delivery).toBe('at-least-once');
    expect(parseTopology({ ...minimal(), delivery: 'exactly-once' }).delivery).toBe('exactly-once');
    expect(t.consumer).toEqual({ group: 'g', fromBeginning: true, commitIntervalMs: 1_000, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
  });

  it.each([
    [{ batching: { maxWaitMs: 'x' } }, 'batching.maxWaitMs: expected a non-negative number, got "x"'],
    [{ batching: { maxBatchSize: 0 } }, "batching.maxBatchSize: expected a positive integer or 'auto', got 0"],
    [{ batching: { maxBatchSize: 257 } }, 'batching.maxBatchSize: expected at most 256, got 257'],
    [{ engine: { batching: 'dynamic' } }, 'engine.batching: expected one of continuous, static, got "dynamic"'],
    [{ batching: { maxWaitMS: 5 } }, 'batching.maxWaitMS: unknown field'],
    [{ input: { topic: 'in', format: 'xml' } }, 'input.format: expected one of avro, confluent, json, auto, got "xml"'],
    [{ output: {} }, 'output.topic: expected a non-empty string, got nothing'],
    [{ output: { topic: 'out', format: 'protobuf' } }, 'output.format: expected one of avro, confluent, got "protobuf"'],
    [{ consumer: { group: '' } }, 'consumer.group: expected a non-empty string, got ""'],
    [{ delivery: 'at-most-once' }, 'delivery: expected one of exactly-once, at-least-once, got "at-most-once"'],
    [{ consumer: { group: 'g', commitIntervalMs: 0 } }, 'consumer.commitIntervalMs: expected a positive integer, got 0'],
    [{ consumer: { group: 'g', sessionTimeoutMs: 'x' } }, 'consumer.sessionTimeoutMs: expected a positive integer, got "x"'],
    [{ consumer: { group: 'g', sessionTimeoutMs: 6000, heartbeatIntervalMs: 3000 } }, 'consumer.heartbeatIntervalMs: expected at most a third of consumer.sessionTimeoutMs (6000), got 3000'],
    [{ teachers: [] }, 'teachers: expected a non-empty list, got an array'],
    [{ teachers: [{ annotation: 'poetry', model: 'm' }] }, 'teachers[0].annotation: expected one of fundamentals, cot, mistakes, got "poetry"'],
    [{ teachers: [{ annotation: 'cot' }] }, 'teachers[0].model: expected a non-empty string, got nothing'],
    [{ teachers: [{ annotation: 'cot', model: 'm', generation: { maxNewTokens: 1.5 } }] }, 'teachers[0].generation.maxNewTokens: expected a positive integer, got 1.5'],
    [{ teachers: [{ annotation: 'cot', model: 'm' }, { annotation: 'cot', model: 'm' }] }, 'teachers[1].annotation: expected each annotation once'],
    [{ engine: { device: 'tpu' } }, 'engine.device: expected one of auto, cpu, cuda, got "tpu"'],
    [{ engine: { workers: 'many' } }, `engine.workers: expected a positive integer or 'auto', got "many"`],
    [{ engine: { threads: 0 } }, `engine.threads: expected a positive integer or 'auto', got 0`],
    [{ engine: { dtype: 'int4' } }, 'engine.dtype: expected one of fp32, fp16, int8, got "int4"'],
    [{ engine: { onnxFile: '../model.onnx' } }, `engine.onnxFile: expected a file name under the model's onnx/ folder, without a path, got "../model.onnx"`],
    [{ engine: { onnxFile: '' } }, 'engine.onnxFile: expected a non-empty string, got ""'],
    [{ output: { topic: 'in' } }, 'output.topic: expected input, output and deadLetter topics to differ'],
  ])('rejects %j naming the field', (patch, message) => {
    try {
      parseTopology({ ...minimal(), ...patch });
      expect.unreachable();
    } catch (err) {
      expect(isTeacherlmError(err, 'INVALID_TOPOLOGY')).toBe(true);
      expect((err as Error).message).toContain(message);
    }
  });

  it('takes banInventedOptions for onnx teachers only', () => {
    const t = minimal();
    expect(parseTopology({ ...t, teachers: [{ ...t.teachers[0]!, banInventedOptions: true }] }, '/b').teachers[0]!.banInventedOptions).toBe(true);
    expect(parseTopology(t, '/b').teachers[0]!.banInventedOptions).toBeUndefined();
    expect(() => parseTopology({ ...t, teachers: [{ ...t.teachers[0]!, banInventedOptions: 'yes' }] }, '/b')).toThrow(/teachers\[0\]\.banInventedOptions: expected true or false/);
    expect(() => parseTopology({ ...t, teachers: [{ ...t.teachers[0]!, kind: 'echo', banInventedOptions: true }] }, '/b')).toThrow(/banInventedOptions: expected a teacher of kind onnx/);
  });

  it('names the file in load errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'topo-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'input: [\n');
    expect(() => loadTopology(file)).toThrow(`${file}: not valid YAML`);
    writeFileSync(file, 'name: x\n');
    expect(() => loadTopology(file)).toThrow(`${file}: input: expected a mapping, got nothing`);
    expect(() => loadTopology(join(dir, 'none.yaml'))).toThrow(/cannot read topology/);
  });
});
