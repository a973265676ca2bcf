/**
 * Encodes and decodes one record type in the single-object wire format
 * (`wire-format.ts`). Decoding accepts the current schema and every older writer schema
 * given at construction: records from an old writer are resolved into the current
 * reader schema (missing fields take their defaults).
 */
import avro from 'avsc';
import { TeacherlmError } from '../errors.js';
import { rabinFingerprint } from './fingerprint.js';
import { HEADER_LENGTH, frame, unframe } from './wire-format.js';

/** The CRC-64-AVRO fingerprint of a type's canonical schema, 8 bytes as written in the single-object header. */
export function schemaFingerprint(type: avro.Type): Buffer {
  return rabinFingerprint(JSON.stringify(type.schema()));
}

export class AvroCodec<T> {
  readonly fingerprint: Buffer;
  /** The resolver for this codec's own fingerprint (null: read as written). */
  private readonly ownResolver: avro.Resolver | null;
  private readonly resolvers = new Map<string, avro.Resolver | null>();
  private scratch: Buffer;

  constructor(
    readonly type: avro.Type,
    olderWriters: avro.Type[] = [],
  ) {
    this.fingerprint = schemaFingerprint(type);
    const fingerprintHex = this.fingerprint.toString('hex');
    this.scratch = this.newScratch(16 * 1024);
    this.resolvers.set(fingerprintHex, null);
    for (const writer of olderWriters) {
      this.resolvers.set(schemaFingerprint(writer).toString('hex'), type.createResolver(writer));
    }
    this.ownResolver = this.resolvers.get(fingerprintHex)!;
  }

  /**
   * Avro single-object bytes of `value`; ENCODE_FAILED when it does not fit the schema.
   * Header and body are written into one reused scratch buffer and copied out once
   * (`toBuffer` + `frame` allocated, zero-filled and copied twice per record).
   */
  encode(value: T): Buffer {
    try {
      let end = this.type.encode(value, this.scratch, HEADER_LENGTH);
      if (end < 0) {
        // Too small by -end bytes: grow (the header is rewritten) and encode again.
        this.scratch = this.newScratch(2 * (this.scratch.length - end));
        end = this.type.encode(value, this.scratch, HEADER_LENGTH);
      }
      const out = Buffer.allocUnsafe(end);
      this.scratch.copy(out, 0, 0, end);
      return out;
    } catch (err) {
      throw new TeacherlmError('ENCODE_FAILED', `cannot encode ${this.type.name ?? 'record'}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** A scratch buffer of `size` bytes that starts with this type's single-object header. */
  private newScratch(size: number): Buffer {
    const scratch = Buffer.allocUnsafe(size);
    frame(this.fingerprint, Buffer.alloc(0)).copy(scratch);
    return scratch;
  }

  /** The record in `bytes`, resolved to the current schema; DECODE_FAILED when it cannot be read. */
  decode(bytes: Buffer): T {
    const { fingerprint, body } = unframe(bytes);
    // Records of the current schema, nearly all of them, skip the hex lookup.
    const resolver = fingerprint.equals(this.fingerprint) ? this.ownResolver : this.resolvers.get(fingerprint.toString('hex'));
    if (resolver === undefined) {
      throw new TeacherlmError(
        'DECODE_FAILED',
        `unknown writer schema (fingerprint ${fingerprint.toString('hex')}) for ${this.type.name ?? 'record'}`,
        { detail: 'unknown-writer-schema' },
      );
    }
    try {
      return this.type.fromBuffer(body, resolver ?? undefined) as T;
    } catch (err) {
      throw new TeacherlmError('DECODE_FAILED', `invalid Avro ${this.type.name ?? 'record'}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
