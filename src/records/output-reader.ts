/**
 * Reads records of the augmented and dead-letter topics in any of our output formats:
 * single-object Avro (the writer's fingerprint picks the schema from `schemas/`) and the
 * Confluent wire format (the writer's schema id is looked up in the registry once, and
 * its record name says AugmentedSample or DeadLetter). Either is resolved into the
 * current schema, so records of older writers read as today's shape.
 */
import avro from 'avsc';
import { TeacherlmError } from '../errors.js';
import type { RegistryClient } from '../registry/client.js';
import { recordCodecs, type RecordCodecs } from './codecs.js';
import { CONFLUENT_HEADER_LENGTH, confluentSchemaId, isConfluent } from './confluent-codec.js';
import type { AugmentedSample, DeadLetter } from './types.js';
import { decodeOutputRecord, type OutputRecord } from './output-record.js';

interface ConfluentWriter {
  kind: OutputRecord['kind'];
  resolver: avro.Resolver;
}

export class OutputReader {
  private readonly codecs: RecordCodecs;
  private readonly writers = new Map<number, Promise<ConfluentWriter>>();
  private readonly loaded = new Map<number, ConfluentWriter>();

  constructor(
    private readonly registry?: Pick<RegistryClient, 'schemaById'>,
    schemasDir?: string,
  ) {
    this.codecs = recordCodecs(schemasDir);
  }

  /** Undefined when `value` decodes at once; else a promise that loads its writer schema. */
  prepare(value: Buffer | null): Promise<void> | undefined {
    if (value === null || !isConfluent(value)) return undefined;
    const id = value.readUInt32BE(1);
    if (this.loaded.has(id)) return undefined;
    return this.writer(id).then(() => undefined);
  }

  private writer(id: number): Promise<ConfluentWriter> {
    let writer = this.writers.get(id);
    if (!writer) {
      const registry = this.registry;
      if (!registry) {
        return Promise.reject(
          new TeacherlmError('DECODE_FAILED', `record in the Confluent wire format (schema id ${id}), but no schema registry is configured`, {
            hint: 'set SCHEMA_REGISTRY_URL',
          }),
        );
      }
      writer = registry.schemaById(id).then((text) => {
        const type = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
        const name = (type.name ?? '').split('.').at(-1);
        const kind = name === 'AugmentedSample' ? 'augmented' : name === 'DeadLetter' ? 'dead-letter' : undefined;
        if (!kind) throw new TeacherlmError('DECODE_FAILED', `schema id ${id} is ${type.name ?? 'unnamed'}, neither an AugmentedSample nor a DeadLetter`);
        const reader = kind === 'augmented' ? this.codecs.augmentedSample.type : this.codecs.deadLetter.type;
        const loaded = { kind, resolver: reader.createResolver(type) } as ConfluentWriter;
        this.loaded.set(id, loaded);
        return loaded;
      });
      writer.catch(() => this.writers.delete(id));
      this.writers.set(id, writer);
    }
    return writer;
  }

  /** Decodes a record whose writer is loaded (see {@link prepare}); DECODE_FAILED otherwise. */
  decode(value: Buffer | null): OutputRecord {
    if (value === null || !isConfluent(value)) return decodeOutputRecord(value, this.codecs);
    const id = confluentSchemaId(value);
    const writer = this.loaded.get(id);
    if (!writer) throw new TeacherlmError('DECODE_FAILED', `unknown writer schema (schema id ${id}): call prepare() first`, { detail: 'unknown-writer-schema' });
    const body = value.subarray(CONFLUENT_HEADER_LENGTH);
    try {
      if (writer.kind === 'augmented') return { kind: 'augmented', record: this.codecs.augmentedSample.type.fromBuffer(body, writer.resolver) as AugmentedSample };
      return { kind: 'dead-letter', record: this.codecs.deadLetter.type.fromBuffer(body, writer.resolver) as DeadLetter };
    } catch (err) {
      throw new TeacherlmError('DECODE_FAILED', `invalid Avro record (schema id ${id}): ${(err as Error).message}`, { cause: err });
    }
  }

  async decodeAsync(value: Buffer | null): Promise<OutputRecord> {
    await this.prepare(value);
    return this.decode(value);
  }
}
