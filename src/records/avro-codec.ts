/**
 * Encodes and decodes one record type in the single-object wire format
 * (`wire-format.ts`). Decoding accepts the current schema and every older writer schema
 * given at construction: records from an old writer are resolved into the current
 * reader schema (missing fields take their defaults).
 */
import avro from 'avsc';
import { TeacherlmError } from '../errors.js';
import { rabinFingerprint } from './fingerprint.js';
import { frame, unframe } from './wire-format.js';

/** The fingerprint of a type's Parsing Canonical Form, as hex. */
export function schemaFingerprint(type: avro.Type): Buffer {
  return rabinFingerprint(JSON.stringify(type.schema()));
}

export class AvroCodec<T> {
  readonly fingerprint: Buffer;
  private readonly fingerprintHex: string;
  private readonly resolvers = new Map<string, avro.Resolver | null>();

  constructor(
    readonly type: avro.Type,
    olderWriters: avro.Type[] = [],
  ) {
    this.fingerprint = schemaFingerprint(type);
    this.fingerprintHex = this.fingerprint.toString('hex');
    this.resolvers.set(this.fingerprintHex, null);
    for (const writer of olderWriters) {
      this.resolvers.set(schemaFingerprint(writer).toString('hex'), type.createResolver(writer));
    }
  }

  /** Avro single-object bytes of `value`; ENCODE_FAILED when it does not fit the schema. */
  encode(value: T): Buffer {
    try {
      return frame(this.fingerprint, this.type.toBuffer(value));
    } catch (err) {
      throw new TeacherlmError('ENCODE_FAILED', `cannot encode ${this.type.name ?? 'record'}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** The record in `bytes`, resolved to the current schema; DECODE_FAILED when it cannot be read. */
  decode(bytes: Buffer): T {
    const { fingerprint, body } = unframe(bytes);
    const hex = fingerprint.toString('hex');
    const resolver = this.resolvers.get(hex);
    if (resolver === undefined) {
      throw new TeacherlmError(
        'DECODE_FAILED',
        `unknown writer schema (fingerprint ${hex}) for ${this.type.name ?? 'record'}`,
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
