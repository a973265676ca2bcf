import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { AvroCodec, schemaFingerprint } from '../../src/records/avro-codec.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { defaultSchemasDir, loadSchema, SCHEMA_NAMES } from '../../src/records/schemas.js';

const schemasDir = defaultSchemasDir();
const read = (name: string) => JSON.parse(readFileSync(join(schemasDir, `${name}.avsc`), 'utf8'));

/** An "old" AugmentedSample writer: the current schema without the fields added after v1. */
function augmentedV1(): Record<string, unknown> {
  const schema = read('augmented-sample');
  schema.fields = schema.fields.filter((f: { name: string }) => !['context', 'metadata', 'commonMistakes'].includes(f.name));
  // commonMistakes referenced the Annotation type by name only; fundamentals still defines it.
  const annotation = schema.fields.find((f: { name: string }) => f.name === 'fundamentals').type[1];
  annotation.fields = annotation.fields.filter((f: { name: string }) => f.name !== 'quality');
  return schema;
}

describe('schemas', () => {
  it('load and parse', () => {
    for (const name of SCHEMA_NAMES) expect(loadSchema(name).current.name).toMatch(/^ai\.teacherlm\.stream\./);
  });

  it('give every optional field a default so they can evolve', () => {
    // Nullable fields must default to null, or old records could not be read by new readers.
    for (const name of SCHEMA_NAMES) {
      for (const field of read(name).fields as { name: string; type: unknown; default?: unknown }[]) {
        if (Array.isArray(field.type) && field.type[0] === 'null') expect(field, `${name}.${field.name}`).toHaveProperty('default', null);
      }
    }
  });

  it('read an old-writer record with the new reader schema (createResolver)', () => {
    const current = loadSchema('augmented-sample').current;
    const old = avro.Type.forSchema(augmentedV1() as avro.Schema);
    const record = {
      id: 's1', task: 'CREAK', question: 'q', answer: 'a',
      fundamentals: { text: 'f', modelId: 'm', promptTokens: 3, generatedTokens: 2, finishReason: 'eos' },
      chainOfThought: null,
      source: { topic: 'samples.raw', partition: 0, offset: 7 },
      sourceTimestamp: 1, augmentedAt: 2,
    };
    const resolved = current.fromBuffer(old.toBuffer(record), current.createResolver(old));
    expect(resolved).toMatchObject({ ...record, context: null, metadata: {}, commonMistakes: null });
  });

  it('let the codec decode records of a version kept in schemas/history', () => {
    const dir = mkdtempSync(join(tmpdir(), 'schemas-'));
    mkdirSync(join(dir, 'history'));
    for (const name of SCHEMA_NAMES) writeFileSync(join(dir, `${name}.avsc`), readFileSync(join(schemasDir, `${name}.avsc`)));
    writeFileSync(join(dir, 'history', 'augmented-sample.1.avsc'), JSON.stringify(augmentedV1()));
    const old = new AvroCodec<Record<string, unknown>>(avro.Type.forSchema(augmentedV1() as avro.Schema));
    const bytes = old.encode({
      id: 's2', task: 't', question: 'q', answer: 'a', fundamentals: null, chainOfThought: null,
      source: { topic: 'x', partition: 1, offset: 2 }, sourceTimestamp: 3, augmentedAt: 4,
    });
    const codecs = recordCodecs(dir);
    expect(codecs.augmentedSample.decode(bytes)).toMatchObject({ id: 's2', metadata: {}, commonMistakes: null });
    // Without the history file the writer is unknown.
    expect(() => recordCodecs().augmentedSample.decode(bytes)).toThrow(/unknown writer schema/);
    expect(schemaFingerprint(old.type)).not.toEqual(codecs.augmentedSample.fingerprint);
  });

  it('decode records of the shipped history versions, new fields taking their defaults', () => {
    const [first, second] = loadSchema('augmented-sample').history;
    expect(second, 'schemas/history/augmented-sample.2.avsc').toBeDefined();
    // Version 2 had the gate's outcome without its repairs: they read as none.
    const v2 = new AvroCodec<Record<string, unknown>>(second as avro.Type);
    const gated = { text: 'f', modelId: 'm', promptTokens: 3, generatedTokens: 2, finishReason: 'eos', quality: { passed: true, failedChecks: [], attempts: 1 } };
    const v2Bytes = v2.encode({
      id: 's5', task: 't', question: 'q', answer: 'a', context: null, metadata: {}, fundamentals: gated, chainOfThought: null, commonMistakes: null,
      source: { topic: 'x', partition: 0, offset: 1 }, sourceTimestamp: 2, augmentedAt: 3,
    });
    expect(recordCodecs().augmentedSample.decode(v2Bytes).fundamentals).toEqual({ ...gated, quality: { ...gated.quality, repairs: [] } });
    const previous = first;
    const old = new AvroCodec<Record<string, unknown>>(previous as avro.Type);
    const annotation = { text: 'f', modelId: 'm', promptTokens: 3, generatedTokens: 2, finishReason: 'eos' };
    const bytes = old.encode({
      id: 's4', task: 't', question: 'q', answer: 'a', context: null, metadata: {}, fundamentals: annotation, chainOfThought: null, commonMistakes: null,
      source: { topic: 'x', partition: 0, offset: 1 }, sourceTimestamp: 2, augmentedAt: 3,
    });
    expect(recordCodecs().augmentedSample.decode(bytes).fundamentals).toEqual({ ...annotation, quality: null });
  });

  it('stay readable by old readers (added fields are skipped)', () => {
    const current = loadSchema('augmented-sample').current;
    const old = avro.Type.forSchema(augmentedV1() as avro.Schema);
    const annotation = { text: 'f', modelId: 'm', promptTokens: 3, generatedTokens: 2, finishReason: 'eos' };
    const v1Fields = {
      id: 's3', task: 'CREAK', question: 'q', answer: 'a', fundamentals: annotation, chainOfThought: null,
      source: { topic: 'samples.raw', partition: 1, offset: 9 }, sourceTimestamp: 5, augmentedAt: 6,
    };
    const bytes = current.toBuffer({ ...v1Fields, context: 'ctx', metadata: { k: 'v' }, commonMistakes: annotation });
    const seen = old.fromBuffer(bytes, old.createResolver(current)) as Record<string, unknown>;
    expect({ ...seen }).toEqual(v1Fields);
  });
});
