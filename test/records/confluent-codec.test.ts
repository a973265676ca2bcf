import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { ConfluentCodec, confluentSchemaId, isConfluent, valueSubject } from '../../src/records/confluent-codec.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { isTeacherlmError } from '../../src/errors.js';
import type { RawSample } from '../../src/records/types.js';

const sample: RawSample = { id: 's1', task: 'CREAK', question: 'q? (A) True (B) False', answer: '(A)', context: null, metadata: { k: 'v' } };
const rawType = recordCodecs().rawSample.type;

/** A registry at its interface: ids to schema texts, counting lookups. */
function fakeRegistry(schemas: Record<number, object>) {
  const lookups: number[] = [];
  return {
    lookups,
    schemaById: async (id: number) => {
      lookups.push(id);
      const schema = schemas[id];
      if (!schema) throw new Error(`no schema ${id}`);
      return JSON.stringify(schema);
    },
  };
}

describe('ConfluentCodec', () => {
  it('writes magic 0, the big-endian schema id, then the Avro body', () => {
    const codec = new ConfluentCodec<RawSample>(rawType, 258, fakeRegistry({}));
    const bytes = codec.encode(sample);
    expect([...bytes.subarray(0, 5)]).toEqual([0, 0, 0, 1, 2]);
    expect(isConfluent(bytes)).toBe(true);
    expect(confluentSchemaId(bytes)).toBe(258);
    expect(rawType.fromBuffer(bytes.subarray(5))).toEqual(sample);
    expect(codec.decode(bytes)).toEqual(sample);
  });

  it('fetches an unknown writer id once, then decodes without a request', async () => {
    const registry = fakeRegistry({ 7: rawType.schema() as object });
    const writer = new ConfluentCodec<RawSample>(rawType, 7, registry);
    const reader = new ConfluentCodec<RawSample>(rawType, undefined, registry);
    const bytes = writer.encode(sample);
    expect(reader.needsLoad(bytes)).toBe(true);
    expect(() => reader.decode(bytes)).toThrow(/unknown writer schema \(schema id 7\)/);
    expect(await reader.decodeAsync(bytes)).toEqual(sample);
    for (let i = 0; i < 100; i++) reader.decode(writer.encode({ ...sample, id: `s${i}` }));
    expect(registry.lookups).toEqual([7]);
  });

  it('resolves an older writer into the current schema (a new field takes its default)', async () => {
    const v1 = avro.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] });
    const v2 = avro.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'int', default: 5 }] });
    const reader = new ConfluentCodec<{ a: string; b: number }>(v2, undefined, fakeRegistry({ 1: v1.schema() as object }));
    const old = new ConfluentCodec<{ a: string }>(v1, 1, fakeRegistry({})).encode({ a: 'x' });
    expect(await reader.decodeAsync(old)).toEqual({ a: 'x', b: 5 });
  });

  it('refuses what is not Confluent-framed, and a reader does not write', () => {
    const reader = new ConfluentCodec<RawSample>(rawType, undefined, fakeRegistry({}));
    let err: unknown;
    try {
      reader.decode(Buffer.from('{"id":1}'));
    } catch (e) {
      err = e;
    }
    expect(isTeacherlmError(err, 'DECODE_FAILED')).toBe(true);
    expect(() => reader.encode(sample)).toThrow(/only reads/);
    expect(valueSubject('samples.augmented')).toBe('samples.augmented-value');
  });
});
