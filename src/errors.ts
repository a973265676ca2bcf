/**
 * Typed errors for the whole product. Every error carries a closed `code`, a
 * `retriable` flag (which decides retry versus dead-letter) and an optional `cause`.
 *
 * Add new codes to {@link ERROR_CODES} with their default retriability; never throw
 * a bare `Error` across a module boundary.
 */
export const ERROR_CODES = {
  /** Options or configuration failed validation at a boundary. */
  INVALID_OPTIONS: false,
  /** A topology file could not be read or failed validation. */
  INVALID_TOPOLOGY: false,
  /** An input record could not be decoded (bad JSON, bad Avro, wrong shape). */
  DECODE_FAILED: false,
  /** An input record decoded but is not a valid RawSample. */
  INVALID_SAMPLE: false,
  /** A record could not be encoded for the output topics (a bug or a schema mismatch). */
  ENCODE_FAILED: false,
  /** The local Kafka broker could not be started or stopped. */
  BROKER_START_FAILED: false,
  /** The local schema registry could not be started or stopped. */
  REGISTRY_START_FAILED: false,
  /** The schema registry did not answer, or answered with a server error. */
  REGISTRY_UNREACHABLE: true,
  /** The schema registry refused a schema (incompatible with the subject's versions) or a request. */
  SCHEMA_REFUSED: false,
  /** No broker is reachable at the configured address. */
  BROKER_UNREACHABLE: true,
  /** The broker refused an admin request (topic creation, configs). */
  ADMIN_REFUSED: false,
  /** A record is larger than the output topic accepts (its max.message.bytes): it is dead-lettered, truncated. */
  RECORD_TOO_LARGE: false,
  /** Producing to Kafka failed. */
  PRODUCE_FAILED: true,
  /** Consuming from Kafka failed for good (the consumer crashed and will not restart). */
  CONSUME_FAILED: false,
  /** An exactly-once transaction (outputs plus input offsets) failed for good, or its producer was fenced by a newer owner. */
  TRANSACTION_FAILED: false,
  /** The broker did not accept an offset commit (e.g. the group rebalanced). */
  COMMIT_FAILED: true,
  /** The group's committed offsets could not be read stable (a transaction stayed pending, the coordinator moved, or the broker lacks OffsetFetch v7). */
  OFFSETS_UNAVAILABLE: true,
  /** A model folder is missing files or has an unsupported layout. */
  MODEL_INVALID: false,
  /** The requested execution provider is unavailable. */
  DEVICE_UNAVAILABLE: false,
  /** Generation failed inside the engine. */
  GENERATION_FAILED: true,
  /** An engine worker thread died; the batch it held may be retried. */
  WORKER_CRASHED: true,
  /** An annotation failed the topology's quality gate after its regenerations (onFailure: dead-letter). */
  QUALITY_FAILED: false,
  /** The engine or pipeline was shut down while work was pending. */
  SHUT_DOWN: false,
  /** A file given by the user could not be read or written. */
  IO_FAILED: false,
  /** An inference server is overloaded or unreachable (429, 503, timeout, connection reset): try again, maybe elsewhere. */
  SERVER_UNAVAILABLE: true,
  /** An inference server refused a request or answered something unusable (4xx, malformed reply). */
  SERVER_REJECTED: false,
  /** An external tool (java, mvn, python) is missing or failed. */
  TOOL_FAILED: false,
  /** Something failed that no stage turned into a typed error: a bug, never retried. */
  INTERNAL: false,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TeacherlmErrorOptions {
  cause?: unknown;
  /** Overrides the code's default retriability. */
  retriable?: boolean;
  /** A one-line hint telling the user what to do. */
  hint?: string;
  /** A machine-readable reason within the code, for callers that act on it (never parse the message). */
  detail?: ErrorDetail;
}

/** Reasons within a code that callers act on. */
export type ErrorDetail = 'unknown-writer-schema';

export class TeacherlmError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly hint: string | undefined;
  readonly detail: ErrorDetail | undefined;

  constructor(code: ErrorCode, message: string, options: TeacherlmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TeacherlmError';
    this.code = code;
    this.retriable = options.retriable ?? ERROR_CODES[code];
    this.hint = options.hint;
    this.detail = options.detail;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, retriable: this.retriable };
  }
}

export function isTeacherlmError(value: unknown, code?: ErrorCode): value is TeacherlmError {
  return value instanceof TeacherlmError && (code === undefined || value.code === code);
}

/** Wraps anything thrown into a TeacherlmError, keeping an existing one as is. */
export function asTeacherlmError(value: unknown, code: ErrorCode, message?: string): TeacherlmError {
  if (value instanceof TeacherlmError) return value;
  const text = message ?? (value instanceof Error ? value.message : String(value));
  return new TeacherlmError(code, text, { cause: value });
}
