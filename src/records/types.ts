/** TypeScript shapes of the records in `schemas/*.avsc`. */
import type { QualityOutcome } from '../quality/gate.js';
import type { FinishReason, RawSample } from '../teacher/types.js';

export type { RawSample };

/** Where an input record was read; `offset` is a number in records (Avro long). */
export interface SourceCoordinates {
  topic: string;
  partition: number;
  offset: number;
}

/** One teacher output (schema `Annotation`). */
export interface Annotation {
  text: string;
  modelId: string;
  promptTokens: number;
  generatedTokens: number;
  finishReason: FinishReason | string;
  /** What the quality gate found; null without a gate (absent in records written before it). */
  quality?: QualityOutcome | null;
}

/** `schemas/augmented-sample.avsc`. */
export interface AugmentedSample {
  id: string;
  task: string;
  question: string;
  answer: string;
  context: string | null;
  metadata: Record<string, string>;
  fundamentals: Annotation | null;
  chainOfThought: Annotation | null;
  commonMistakes: Annotation | null;
  source: SourceCoordinates;
  sourceTimestamp: number;
  augmentedAt: number;
}

/** Pipeline stages that can dead-letter a record. */
export type DeadLetterStage = 'decode' | 'generate' | 'encode';

/** `schemas/dead-letter.avsc`. */
export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  errorCode: string;
  errorMessage: string;
  stage: DeadLetterStage | string;
  sampleId: string | null;
  source: SourceCoordinates;
  sourceTimestamp: number;
  attempts: number;
  failedAt: number;
  /** Set when key and value were truncated to fit the topic's record limit: the original value's size in bytes. */
  originalValueSize?: number | null;
  /** Set with originalValueSize: SHA-256 of the original value, hex. */
  originalValueSha256?: string | null;
}
