/**
 * What flows between the pipeline's operators. A {@link SampleJob} is one input record
 * on its way; it fans out into one {@link GenerationTask} per teacher and is gathered
 * back into one {@link Finished} record (augmented or dead-lettered).
 */
import type { AugmentedSample, DeadLetter, RawSample } from '../records/types.js';
import type { QualityOutcome } from '../quality/gate.js';
import type { CallOutcome } from '../teacher/retry-bisect.js';
import type { OutRecord, SourceRecord } from './ports.js';
import type { TeacherSpec } from './topology.js';

/** A decoded, valid input sample. */
export interface DecodedSample {
  kind: 'sample';
  record: SourceRecord;
  sample: RawSample;
}

/** A record that reached its end: augmented, or dead-lettered with its reason. */
export type Finished =
  | { kind: 'augmented'; record: SourceRecord; value: AugmentedSample }
  | { kind: 'dead-letter'; record: SourceRecord; value: DeadLetter };

/** One sample in flight through the teachers; gather fills `outcomes`. */
export interface SampleJob {
  record: SourceRecord;
  sample: RawSample;
  /** One task per teacher. */
  expected: number;
  outcomes: TaskOutcome[];
}

/** One prompt for one teacher. */
export interface GenerationTask {
  job: SampleJob;
  teacher: TeacherSpec;
  /** Which engine runs it: teachers sharing a model share an engine. */
  engineKey: string;
  prompt: string;
  promptTokens: number;
  /** When it joined its engine's queue (the metrics' clock), while metrics are on and until its batch starts. */
  queuedAt?: number;
  /** Its entry in its sample's trace while the sample is traced (sample-tracing.ts); undefined otherwise. */
  trace?: object;
}

/** A task's result, or its final error after retries and bisection. */
export type TaskOutcome =
  | (Extract<CallOutcome<GenerationTask>, { ok: true }> & {
      /** What the quality gate found, when the topology has one. */
      quality?: QualityOutcome;
      /** The gate dropped the annotation (onFailure: drop): gather writes null. */
      dropped?: boolean;
    })
  | Extract<CallOutcome<GenerationTask>, { ok: false }>;

/** A record ready to produce, with the input record it finishes. */
export interface Encoded {
  record: SourceRecord;
  out: OutRecord;
  kind: Finished['kind'];
}
