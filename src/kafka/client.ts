/**
 * The one place a kafkajs {@link Kafka} client is made, with this project's defaults:
 * a client id, bounded retries, and a quiet logger that forwards to ours.
 *
 * @example
 * const { brokers } = await resolveBrokers();
 * const kafka = createKafka({ brokers, clientId: 'teacherlm-sink' });
 */
import { Kafka, logLevel, type LogEntry, type RetryOptions } from 'kafkajs';
import { rejectOption } from '../options.js';

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

/** Where kafkajs log lines go. The default writes warn and error lines to stderr. */
export type KafkaLogSink = (level: Exclude<KafkaLogLevel, 'nothing'>, message: string, extra: Record<string, unknown>) => void;

export interface KafkaClientOptions {
  /** host:port pairs, e.g. from `resolveBrokers()`. */
  brokers: string[];
  /** Default {@link DEFAULT_CLIENT_ID}. */
  clientId?: string;
  /** Lowest level forwarded; default from TEACHERLM_KAFKA_LOG, else 'warn'. */
  logLevel?: KafkaLogLevel;
  /** Default: one line on stderr per entry. */
  log?: KafkaLogSink;
  /** Default {@link DEFAULT_RETRY}; merged over it. */
  retry?: RetryOptions;
  /** Default 10 s: a first connection on a busy 2-core machine can be slow. */
  connectionTimeoutMs?: number;
  /** Default 30 s. */
  requestTimeoutMs?: number;
}

export const DEFAULT_CLIENT_ID = 'teacherlm';

/**
 * Ten retries over up to about a minute, enough to ride out a coordinator that is still
 * loading on a busy machine. kafkajs warns that an idempotent producer with limited
 * retries "may invalidate EoS guarantees": a producer that must never give up passes
 * `retry: { retries: Number.MAX_SAFE_INTEGER }` itself.
 */
export const DEFAULT_RETRY: Readonly<RetryOptions> = { initialRetryTime: 200, retries: 10, maxRetryTime: 10_000 };

const LEVELS: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

const NAMES = new Map<logLevel, Exclude<KafkaLogLevel, 'nothing'>>([
  [logLevel.ERROR, 'error'],
  [logLevel.WARN, 'warn'],
  [logLevel.INFO, 'info'],
  [logLevel.DEBUG, 'debug'],
]);

export function parseKafkaLogLevel(value: string | undefined, field = 'TEACHERLM_KAFKA_LOG'): KafkaLogLevel {
  if (value === undefined || value === '') return 'warn';
  const level = value.toLowerCase();
  if (level in LEVELS) return level as KafkaLogLevel;
  rejectOption(field, `one of ${Object.keys(LEVELS).join(', ')}`, value);
}

const stderrSink: KafkaLogSink = (level, message, extra) => {
  const detail = typeof extra.error === 'string' ? `: ${extra.error}` : '';
  process.stderr.write(`kafkajs ${level}: ${message}${detail}\n`);
};

/**
 * kafkajs warns once per idempotent producer whose retries are bounded. Bounding them is
 * deliberate here (a send must fail, not hang, when the broker is gone: see
 * {@link DEFAULT_RETRY}) and the sequence numbers still prevent duplicates on retry.
 */
function isBoundedRetriesWarning(message: string): boolean {
  return message.includes('Limiting retries for the idempotent producer');
}

/**
 * Demotes what kafkajs over-reports. Its Connection logs every error response at
 * ERROR, retriable ones included (e.g. "coordinator is loading" on a fresh broker);
 * real failures still reach the caller as exceptions. The bounded-retries warning is
 * demoted too, so no log sink has to filter it.
 */
export function effectiveLevel(level: logLevel, namespace: string, message: string, extra: Record<string, unknown> = {}): logLevel {
  if (namespace === 'Connection' && message.startsWith('Response ')) return logLevel.DEBUG;
  // An entry carrying retryTime announces a retry, not a failure (e.g. CONCURRENT_TRANSACTIONS).
  if ('retryTime' in extra && level < logLevel.INFO) return logLevel.DEBUG;
  if (message.includes('switched default partitioner') || isBoundedRetriesWarning(message)) return logLevel.DEBUG;
  return level;
}

export function createKafka(options: KafkaClientOptions): Kafka {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0) rejectOption('brokers', 'at least one host:port', options.brokers);
  const threshold = LEVELS[options.logLevel ?? parseKafkaLogLevel(process.env.TEACHERLM_KAFKA_LOG)];
  const sink = options.log ?? stderrSink;
  return new Kafka({
    clientId: options.clientId ?? DEFAULT_CLIENT_ID,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    // Demotion only lowers levels, so kafkajs may pre-filter at the same threshold.
    logLevel: threshold,
    logCreator: () => (entry: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = entry.log;
      const level = effectiveLevel(entry.level, entry.namespace, message, extra);
      const name = NAMES.get(level);
      if (name && level <= threshold) sink(name, entry.namespace ? `[${entry.namespace}] ${message}` : message, extra);
    },
  });
}
