/** Builds the DeadLetter record for an input that could not be augmented. */
import { asTeacherlmError, type ErrorCode } from '../errors.js';
import type { DeadLetter, DeadLetterStage, SourceCoordinates } from '../records/types.js';
import type { Finished } from './items.js';
import type { SourceRecord } from './ports.js';

/** The code of an error that reached us untyped: the stage's own failure. */
const STAGE_CODES: Readonly<Record<DeadLetterStage, ErrorCode>> = {
  decode: 'DECODE_FAILED',
  generate: 'GENERATION_FAILED',
  encode: 'ENCODE_FAILED',
};

export interface DeadLetterInfo {
  stage: DeadLetterStage;
  error: unknown;
  attempts: number;
  sampleId?: string | null;
  now: number;
}

/** Where an output record came from: its input's coordinates and timestamp (0 when the broker gave none). */
export function sourceOf(record: SourceRecord): { source: SourceCoordinates; sourceTimestamp: number } {
  return {
    source: { topic: record.topic, partition: record.partition, offset: Number(record.offset) },
    sourceTimestamp: Number(record.timestamp) || 0,
  };
}

/** The dead-letter {@link Finished} item for `record`: original bytes, error code and message, stage, coordinates. */
export function deadLetterFor(record: SourceRecord, info: DeadLetterInfo): Finished {
  const error = asTeacherlmError(info.error, STAGE_CODES[info.stage]);
  const value: DeadLetter = {
    key: record.key,
    value: record.value,
    errorCode: error.code,
    errorMessage: error.message,
    stage: info.stage,
    sampleId: info.sampleId ?? null,
    ...sourceOf(record),
    attempts: info.attempts,
    failedAt: info.now,
  };
  return { kind: 'dead-letter', record, value };
}
