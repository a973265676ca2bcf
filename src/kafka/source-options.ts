/** Options of {@link KafkaSource}, validated at the boundary with messages naming the field. */
import type { ConsumerConfig, Kafka } from 'kafkajs';
import { type SchedulerLike, asyncScheduler } from 'rxjs';
import { intOption, nonEmptyString, rejectOption } from '../options.js';

export interface KafkaSourceOptions {
  /** A client from `createKafka()`. */
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Where a group without a committed offset starts. Default true: no sample produced before the first run is skipped. */
  fromBeginning?: boolean;
  /** Partitions whose batches are handled at once. Default 1. */
  partitionsConsumedConcurrently?: number;
  /** While waiting on a paused partition, heartbeat this often (ms). Default {@link DEFAULT_PAUSED_HEARTBEAT_MS}. */
  pausedHeartbeatMs?: number;
  /** Refresh lag from the admin API this often (ms); 0 turns it off. Default {@link DEFAULT_LAG_REFRESH_MS}. */
  lagRefreshMs?: number;
  /** Passed to `kafka.consumer()`, e.g. `sessionTimeout`; `groupId` is ignored here. */
  consumer?: Partial<Omit<ConsumerConfig, 'groupId'>>;
  /** Clock of the paused-partition waits (the pipeline's scheduler). Default asyncScheduler. */
  scheduler?: SchedulerLike;
  /**
   * Events of the source's own, as JSON-able objects: `group-joined` at each group join
   * (its generation here, the join's milliseconds, the partitions assigned by topic),
   * `consumer-lost` when the consumer
   * crashed and kafkajs restarts it (a broker outage), `consumer-recovered` with the
   * outage's length once it has rejoined. Default: none.
   */
  onEvent?: (event: Record<string, unknown>) => void;
}

export const DEFAULT_PAUSED_HEARTBEAT_MS = 1_000;
export const DEFAULT_LAG_REFRESH_MS = 5_000;
/**
 * kafkajs sleeps this long when every partition is paused before looking again, and a
 * broker holds a fetch this long when the partitions it asks for have no new data. A
 * partition resumed meanwhile is only asked for in the next fetch, so this delays each
 * resume, and a longer wait leaves the pipeline idle while it lasts (figures: README,
 * "Running the pipeline"). An idle consumer then polls the broker 20 times a second,
 * which costs next to nothing.
 */
export const DEFAULT_MAX_WAIT_TIME_MS = 50;
/**
 * Bytes fetched per partition per request (kafkajs default 1 MiB). kafkajs decodes a
 * whole fetch response before `eachBatch`; when the bounded queue pauses a partition
 * mid-batch, the rest of the batch is dropped and fetched (and decoded) again after the
 * resume, so a smaller fetch decodes fewer records twice (figures: README, "Running the
 * pipeline"). A larger record still arrives (the broker always returns one batch).
 */
export const DEFAULT_MAX_BYTES_PER_PARTITION = 256 * 1024;

export interface ResolvedSourceOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  partitionsConsumedConcurrently: number;
  pausedHeartbeatMs: number;
  lagRefreshMs: number;
  consumerConfig: Partial<Omit<ConsumerConfig, 'groupId'>>;
  scheduler: SchedulerLike;
  onEvent: (event: Record<string, unknown>) => void;
}

export function resolveSourceOptions(options: KafkaSourceOptions): ResolvedSourceOptions {
  const { kafka, groupId, topics } = options;
  if (!kafka || typeof kafka.consumer !== 'function') rejectOption('kafka', 'a kafkajs Kafka client', kafka);
  nonEmptyString('groupId', groupId);
  if (!Array.isArray(topics) || topics.length === 0) rejectOption('topics', 'a list of at least one topic', topics);
  topics.forEach((t, i) => nonEmptyString(`topics[${i}]`, t));
  const { groupId: _ignored, ...consumerRest } = (options.consumer ?? {}) as Partial<ConsumerConfig>;
  return {
    kafka,
    groupId,
    topics: [...topics],
    fromBeginning: options.fromBeginning ?? true,
    partitionsConsumedConcurrently: intOption('partitionsConsumedConcurrently', options.partitionsConsumedConcurrently, 1),
    pausedHeartbeatMs: intOption('pausedHeartbeatMs', options.pausedHeartbeatMs, DEFAULT_PAUSED_HEARTBEAT_MS),
    lagRefreshMs: intOption('lagRefreshMs', options.lagRefreshMs, DEFAULT_LAG_REFRESH_MS, { min: 0 }),
    scheduler: options.scheduler ?? asyncScheduler,
    onEvent: typeof options.onEvent === 'function' ? options.onEvent : () => {},
    // read_committed: aborted transactions of an exactly-once producer upstream are never seen.
    consumerConfig: { readUncommitted: false, maxWaitTimeInMs: DEFAULT_MAX_WAIT_TIME_MS, maxBytesPerPartition: DEFAULT_MAX_BYTES_PER_PARTITION, ...consumerRest },
  };
}
