/**
 * The Confluent wire format, what the Kafka ecosystem's registry-aware serializers read
 * and write (confluent-kafka's AvroDeserializer, Kafka Connect, Flink, ksqlDB, Apicurio's
 * serde in Confluent-compatible mode):
 *
 * ```
 * 00 | 4-byte schema id (big-endian), from the schema registry | Avro binary body
 * ```
 *
 * A codec encodes with the id its schema got at registration (subject `<topic>-value`,
 * TopicNameStrategy) and decodes any writer id, fetched from the registry once per id and
 * resolved into the current schema. After the first record of an id, a record costs no request.
 */
import avro from 'avsc';
import { TeacherlmError } from '../errors.js';
import type { RegistryClient } from '../registry/client.js';

export const CONFLUENT_MAGIC = 0;
export const CONFLUENT_HEADER_LENGTH = 5;

export function isConfluent(bytes: Buffer): boolean {
  return bytes.length >= CONFLUENT_HEADER_LENGTH && bytes[0] === CONFLUENT_MAGIC;
}

/** The schema id of a Confluent-framed record. */
export function confluentSchemaId(bytes: Buffer): number {
  if (!isConfluent(bytes)) throw new TeacherlmError('DECODE_FAILED', 'not a Confluent wire-format record (expected magic byte 0 and a 4-byte schema id)');
  return bytes.readUInt32BE(1);
}

/** TopicNameStrategy: the value schema of topic T is the subject `T-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

export class ConfluentCodec<T> {
  /** Writer id -> resolver into `type` (null: the writer is `type` itself). */
  private readonly resolvers = new Map<number, avro.Resolver | null>();
  private scratch: Buffer;

  constructor(
    readonly type: avro.Type,
    /** The id `type` was registered with, the one this codec writes; undefined for a reader only. */
    readonly schemaId: number | undefined,
    private readonly registry: Pick<RegistryClient, 'schemaById'>,
  ) {
    if (schemaId !== undefined) this.resolvers.set(schemaId, null);
    this.scratch = this.newScratch(schemaId === undefined ? 0 : 16 * 1024);
  }

  /** Registers `type` under `subject` with BACKWARD compatibility and returns a codec writing its id. */
  static async register<T>(registry: RegistryClient, subject: string, type: avro.Type): Promise<ConfluentCodec<T>> {
    await registry.setCompatibility(subject, 'BACKWARD');
    // exportAttrs keeps defaults and docs: without them every added field would look required to the registry.
    const id = await registry.register(subject, type.schema({ exportAttrs: true }) as object);
    return new ConfluentCodec<T>(type, id, registry);
  }

  encode(value: T): Buffer {
    if (this.schemaId === undefined) throw new TeacherlmError('ENCODE_FAILED', `this ${this.type.name ?? 'record'} codec only reads (it registered no schema)`);
    try {
      let end = this.type.encode(value, this.scratch, CONFLUENT_HEADER_LENGTH);
      if (end < 0) {
        this.scratch = this.newScratch(2 * (this.scratch.length - end));
        end = this.type.encode(value, this.scratch, CONFLUENT_HEADER_LENGTH);
      }
      const out = Buffer.allocUnsafe(end);
      this.scratch.copy(out, 0, 0, end);
      return out;
    } catch (err) {
      throw new TeacherlmError('ENCODE_FAILED', `cannot encode ${this.type.name ?? 'record'}: ${(err as Error).message}`, { cause: err });
    }
  }

  private newScratch(size: number): Buffer {
    const scratch = Buffer.allocUnsafe(Math.max(size, CONFLUENT_HEADER_LENGTH));
    scratch[0] = CONFLUENT_MAGIC;
    scratch.writeUInt32BE(this.schemaId ?? 0, 1);
    return scratch;
  }

  /** True when decoding `bytes` needs a registry lookup first ({@link load}). */
  needsLoad(bytes: Buffer): boolean {
    return isConfluent(bytes) && !this.resolvers.has(bytes.readUInt32BE(1));
  }

  /** Fetches the writer schema of `bytes` from the registry, once per id. */
  async load(bytes: Buffer): Promise<void> {
    const id = confluentSchemaId(bytes);
    if (this.resolvers.has(id)) return;
    const text = await this.registry.schemaById(id);
    let writer: avro.Type;
    try {
      writer = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
    } catch (err) {
      throw new TeacherlmError('DECODE_FAILED', `schema id ${id} is not an Avro schema: ${(err as Error).message}`, { cause: err });
    }
    try {
      this.resolvers.set(id, this.type.createResolver(writer));
    } catch (err) {
      throw new TeacherlmError('DECODE_FAILED', `schema id ${id} cannot be read as ${this.type.name ?? 'record'}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The record in `bytes`; the writer id must be loaded (see {@link needsLoad}). */
  decode(bytes: Buffer): T {
    const id = confluentSchemaId(bytes);
    const resolver = this.resolvers.get(id);
    if (resolver === undefined) throw new TeacherlmError('DECODE_FAILED', `unknown writer schema (schema id ${id}) for ${this.type.name ?? 'record'}`, { detail: 'unknown-writer-schema' });
    try {
      return this.type.fromBuffer(bytes.subarray(CONFLUENT_HEADER_LENGTH), resolver ?? undefined) as T;
    } catch (err) {
      throw new TeacherlmError('DECODE_FAILED', `invalid Avro ${this.type.name ?? 'record'}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Loads the writer when needed, then decodes. */
  async decodeAsync(bytes: Buffer): Promise<T> {
    if (this.needsLoad(bytes)) await this.load(bytes);
    return this.decode(bytes);
  }
}
