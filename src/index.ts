/**
 * The package's entry point (`import { subscribeAugmented } from 'teacherlm-stream'`):
 * what a student trainer or another service needs to read and write our topics.
 */
export { subscribeAugmented, type AugmentedMessage, type AugmentedSubscription, type SubscribeAugmentedOptions } from './subscribe/subscribe-augmented.js';
export type { AugmentedSample, Annotation, DeadLetter, RawSample, SourceCoordinates } from './records/types.js';
export { OutputReader } from './records/output-reader.js';
export { recordCodecs } from './records/codecs.js';
export { ConfluentCodec, valueSubject } from './records/confluent-codec.js';
export { createRegistryClient, type RegistryClient } from './registry/client.js';
export { TeacherlmError, isTeacherlmError, type ErrorCode } from './errors.js';
// The teacher engine, for annotating outside the pipeline.
export { createEngine } from './teacher/create-engine.js';
// `teacherlm tune` in code: measures the layouts of one model file and records the best for `auto`.
export { tune, type TuneOptions } from './teacher/tuning/tune.js';
export { buildPrompt, extractAnnotation } from './teacher/prompts.js';
export type { EngineOptions } from './teacher/engine-options.js';
export type { AnnotationKind, GenerationOptions, GenerationRequest, GenerationResult, PromptStyle, TextGenerator } from './teacher/types.js';
