/** The codecs of the three record types, built once from `schemas/`. */
import { AvroCodec } from './avro-codec.js';
import type { ConfluentCodec } from './confluent-codec.js';
import { loadSchema } from './schemas.js';
import type { AugmentedSample, DeadLetter, RawSample } from './types.js';

/** What the pipeline needs of a codec, whatever its wire format (single-object or Confluent). */
export interface RecordCodec<T> {
  encode(value: T): Buffer;
  decode(bytes: Buffer): T;
}

/** The codecs of the output and dead-letter topics. */
export interface OutputCodecs {
  augmentedSample: RecordCodec<AugmentedSample>;
  deadLetter: RecordCodec<DeadLetter>;
}

/** What the pipeline reads and writes with: single-object input always, Confluent input when a registry is configured. */
export interface PipelineCodecs extends OutputCodecs {
  rawSample: AvroCodec<RawSample>;
  confluentRawSample?: ConfluentCodec<RawSample>;
}

export interface RecordCodecs {
  rawSample: AvroCodec<RawSample>;
  augmentedSample: AvroCodec<AugmentedSample>;
  deadLetter: AvroCodec<DeadLetter>;
}

const cache = new Map<string, RecordCodecs>();

/** Codecs for the schemas in `dir` (default: the project's `schemas/`), cached per folder. */
export function recordCodecs(dir?: string): RecordCodecs {
  const key = dir ?? '';
  let codecs = cache.get(key);
  if (!codecs) {
    const make = <T>(name: 'raw-sample' | 'augmented-sample' | 'dead-letter') => {
      const { current, history } = loadSchema(name, dir);
      return new AvroCodec<T>(current, history);
    };
    codecs = {
      rawSample: make<RawSample>('raw-sample'),
      augmentedSample: make<AugmentedSample>('augmented-sample'),
      deadLetter: make<DeadLetter>('dead-letter'),
    };
    cache.set(key, codecs);
  }
  return codecs;
}
