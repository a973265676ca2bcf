/** Records: schemas, the Avro wire format, JSON input and RawSample validation. */
export { AvroCodec, schemaFingerprint } from './avro-codec.js';
export { recordCodecs, type RecordCodecs } from './codecs.js';
export { decodeJsonSample, decodeRawSample, INPUT_FORMATS, type InputFormat } from './decode-raw-sample.js';
export { defaultSchemasDir, loadSchema, SCHEMA_NAMES, type SchemaName } from './schemas.js';
export type { Annotation, AugmentedSample, DeadLetter, DeadLetterStage, RawSample, SourceCoordinates } from './types.js';
export { validateRawSample } from './validate-sample.js';
export { frame, isSingleObject, unframe } from './wire-format.js';
