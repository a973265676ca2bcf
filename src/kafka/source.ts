/**
 * {@link RecordSource} over a kafkajs consumer: manual commits only, per-partition pause
 * and resume, consumer lag per partition, and rebalance events.
 *
 * Backpressure. kafkajs fetches a response, hands its batches to `eachBatch` and fetches
 * again only when the callback returns; a paused partition is left out of later fetches.
 * So the callback is the throttle, and nothing is buffered beyond one fetch response:
 * - every record is emitted synchronously to the subscriber, which may call
 *   {@link KafkaSource.pause} from inside `next()` when its queue is full;
 * - when the batch's partition is paused and EVERY assigned partition is paused (the
 *   usual case: the pipeline's queue is shared), the callback waits, heartbeating, until
 *   the pipeline resumes it, then goes on with the rest of the batch. Nothing else could
 *   be delivered meanwhile, and this avoids refetching the batch;
 * - when only some partitions are paused, the callback returns at once and leaves the
 *   rest of the batch unresolved, so the others are not blocked behind it; kafkajs
 *   refetches those records from the last resolved offset after the resume.
 *
 * `resolveOffset` here only moves the fetch position (autoCommit is off); offsets reach
 * the group only through {@link KafkaSource.commit}, driven by the pipeline's tracker.
 *
 * @example
 * const source = new KafkaSource({ kafka, groupId: 'teacherlm', topics: ['samples.raw'] });
 * source.rebalances().subscribe(({ revoked }) => tracker.forget(revoked));
 * source.records().subscribe((record) => queue.push(record));
 */
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { Observable, Subject, type Subscriber } from 'rxjs';
import { TeacherlmError, asTeacherlmError } from '../errors.js';
import { partitionKey, type RecordSource, type SourceRecord, type SourceStats, type TopicPartitionOffset } from '../pipeline/ports.js';
import { LagTracker, type PartitionLag, type TopicPartition } from './lag-tracker.js';
import { PartitionGate } from './partition-gate.js';
import { StableOffsets } from './stable-offsets.js';
import { type KafkaSourceOptions, type ResolvedSourceOptions, resolveSourceOptions } from './source-options.js';

export type { KafkaSourceOptions } from './source-options.js';

/** The topology's group timeouts as kafkajs consumer options. */
export function consumerTimeouts(topology: { consumer: { sessionTimeoutMs: number; heartbeatIntervalMs: number } }): { sessionTimeout: number; heartbeatInterval: number } {
  return { sessionTimeout: topology.consumer.sessionTimeoutMs, heartbeatInterval: topology.consumer.heartbeatIntervalMs };
}
export type { PartitionLag, TopicPartition } from './lag-tracker.js';

/**
 * A completed group join. kafkajs rebalances eagerly and restarts every partition from
 * its committed offset afterwards, so ALL partitions held before the join are reported
 * `revoked` (those kept appear in `assigned` too): in-flight records of revoked
 * partitions will be delivered again and their tracking must be dropped, never committed.
 */
export interface RebalanceEvent {
  /** 1 for the first join, then +1 per rebalance. */
  generation: number;
  assigned: TopicPartition[];
  revoked: TopicPartition[];
}

export interface KafkaSourceStats extends SourceStats {
  /** Completed group joins. */
  rebalances: number;
  /** Offsets passed to commit() for partitions not assigned any more, and not committed. */
  staleCommitsDropped: number;
}

export class KafkaSource implements RecordSource {
  private readonly options: ResolvedSourceOptions;
  private readonly gate: PartitionGate;
  private readonly lag = new LagTracker();
  private readonly rebalanceEvents = new Subject<RebalanceEvent>();
  private consumer: Consumer | undefined;
  private admin: ReturnType<Kafka['admin']> | undefined;
  private adminConnected: Promise<void> | undefined;
  private stableOffsets: StableOffsets | undefined;
  private lagRefresh: Promise<void> | undefined;
  private subscriber: Subscriber<SourceRecord> | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private runStarted = false;
  private assignment: TopicPartition[] = [];
  private failure: TeacherlmError | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  /** When the consumer crashed into a kafkajs restart (a broker outage), until it rejoins. */
  private lostAt: number | undefined;
  private readonly counters = { pauses: 0, resumes: 0, consumed: 0, rebalances: 0, staleCommitsDropped: 0 };

  constructor(options: KafkaSourceOptions) {
    this.options = resolveSourceOptions(options);
    this.gate = new PartitionGate(this.options.scheduler);
  }

  records(): Observable<SourceRecord> {
    return new Observable<SourceRecord>((subscriber) => {
      if (this.subscriber || this.stopping) {
        subscriber.error(new TeacherlmError('INVALID_OPTIONS', 'a KafkaSource delivers its records to one subscriber, once'));
        return;
      }
      this.subscriber = subscriber;
      this.starting = this.start().catch((err: unknown) => this.fail(startFailure(err, this.options.topics)));
      return () => void this.stop();
    });
  }

  /** Group joins, as they complete. Hot: subscribe before {@link records}. Completes on stop. */
  rebalances(): Observable<RebalanceEvent> {
    return this.rebalanceEvents.asObservable();
  }

  /** The partitions assigned by the last group join. */
  assigned(): TopicPartition[] {
    return [...this.assignment];
  }

  pause(topic: string, partition: number): void {
    if (!this.gate.pause(topic, partition)) return;
    this.counters.pauses++;
    // Before run() the group does not exist yet; start() applies the gate's pauses then.
    if (this.runStarted) this.consumer?.pause([{ topic, partitions: [partition] }]);
  }

  resume(topic: string, partition: number): void {
    if (!this.gate.resume(topic, partition)) return;
    this.counters.resumes++;
    if (this.runStarted) this.consumer?.resume([{ topic, partitions: [partition] }]);
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || !this.runStarted || this.stopping) {
      throw new TeacherlmError('COMMIT_FAILED', 'cannot commit: the source is not consuming', { retriable: false });
    }
    const held = new Set(this.assignment.map((tp) => partitionKey(tp.topic, tp.partition)));
    const current = offsets.filter((o) => held.has(partitionKey(o.topic, o.partition)));
    this.counters.staleCommitsDropped += offsets.length - current.length;
    if (current.length === 0) return;
    try {
      await consumer.commitOffsets(current.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
    } catch (err) {
      const retriable = (err as { retriable?: boolean }).retriable ?? true;
      throw new TeacherlmError('COMMIT_FAILED', `offset commit failed: ${(err as Error).message}`, { cause: err, retriable });
    }
    for (const o of current) this.lag.observePosition(o.topic, o.partition, o.offset);
  }

  /**
   * The group's committed offset of each partition, read from the broker now with
   * require_stable (after a transactional producer fenced the previous owner, so what it
   * committed is in, or pending and waited for), or the
   * log start (fromBeginning) or end for a partition without one.
   */
  async committedOffsets(partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    if (this.stopping) throw new TeacherlmError('OFFSETS_UNAVAILABLE', 'cannot read committed offsets: the source is stopping', { retriable: false });
    const { kafka, groupId } = this.options;
    // require_stable: a commit whose marker is not applied yet is waited for, not read stale.
    const committed = await (this.stableOffsets ??= new StableOffsets({ kafka, groupId })).fetch(partitions);
    const admin = await this.connectedAdmin();
    const out: TopicPartitionOffset[] = [];
    for (const { topic, partition, offset: read } of committed) {
      let offset = read;
      if (offset === '-1') {
        const ends = (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition);
        offset = (this.options.fromBeginning ? ends?.low : ends?.high) ?? '0';
      }
      out.push({ topic, partition, offset });
    }
    return out;
  }

  /** Fetches `topic/partition` from `offset` next; a batch of it being delivered stops (kafkajs marks it stale). */
  seek(topic: string, partition: number, offset: string): void {
    if (!this.consumer || this.stopping) return;
    this.consumer.seek({ topic, partition, offset });
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  stats(): KafkaSourceStats {
    return { ...this.counters, lag: this.lag.total() };
  }

  /**
   * Assigned, and every assigned partition read to its high watermark. Positions count
   * the offsets transaction markers take (a batch's last offset, and batches holding
   * only control records), so a log that ends in a marker is caught up too. While a
   * position is unknown this asks the broker (`refreshLag`) and answers false.
   */
  caughtUp(): boolean {
    if (!this.runStarted || this.stopping || this.assignment.length === 0) return false;
    const lag = this.lag.total();
    if (lag === undefined) void this.refreshLag().catch(() => {});
    return lag === 0;
  }

  /** Lag of each assigned partition whose position and log end are known. */
  lagByPartition(): PartitionLag[] {
    return this.lag.byPartition();
  }

  /**
   * Reads log ends (`admin.fetchTopicOffsets`) and the group's committed offsets
   * (`admin.fetchOffsets`) into the lag figures. Runs every `lagRefreshMs` by itself.
   * Calls made while a refresh is in flight share it: a slow broker must not pile up
   * admin requests, nor let an older answer overwrite a newer one.
   */
  refreshLag(): Promise<void> {
    this.lagRefresh ??= this.readLag().finally(() => (this.lagRefresh = undefined));
    return this.lagRefresh;
  }

  private async readLag(): Promise<void> {
    const admin = await this.connectedAdmin();
    const { topics, groupId, fromBeginning } = this.options;
    const ends = new Map<string, { low: string; high: string }>();
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        this.lag.observeHighWatermark(topic, p.partition, p.high);
        ends.set(partitionKey(topic, p.partition), { low: p.low, high: p.high });
      }
    }
    const committed = new Map<string, string>();
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
      for (const p of partitions) committed.set(partitionKey(topic, p.partition), p.offset);
    }
    for (const { topic, partition } of this.assignment) {
      const key = partitionKey(topic, partition);
      const offset = committed.get(key);
      const end = ends.get(key);
      // Without a commit the consumer starts at the log start or end, as configured.
      const start = offset !== undefined && offset !== '-1' ? offset : fromBeginning ? end?.low : end?.high;
      if (start !== undefined) this.lag.observePosition(topic, partition, start);
    }
  }

  private async start(): Promise<void> {
    const { kafka, groupId, topics, fromBeginning, partitionsConsumedConcurrently, consumerConfig } = this.options;
    const consumer = kafka.consumer({ groupId, ...consumerConfig });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onGroupJoin(payload.memberAssignment, payload.duration));
    // A fetch of only control records (transaction markers) or aborted records never
    // reaches eachBatch; kafkajs resolves past it, and so does our position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) this.lag.observeDelivered(payload.topic, payload.partition, payload.lastOffset);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // restart=true: kafkajs rejoins by itself. Otherwise the consumer is gone for good.
      if (!payload.restart) this.fail(asTeacherlmError(payload.error, 'CONSUME_FAILED', `the consumer crashed: ${payload.error.message}`));
      else if (this.lostAt === undefined && !this.stopping) {
        this.lostAt = Date.now();
        this.options.onEvent({ event: 'consumer-lost', error: payload.error.message, restarting: true });
      }
    });
    await consumer.connect();
    if (this.stopping) return;
    await consumer.subscribe({ topics, fromBeginning });
    if (this.stopping) return;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.runStarted = true;
    for (const { topic, partition } of this.gate.pausedPartitions()) consumer.pause([{ topic, partitions: [partition] }]);
    if (this.options.lagRefreshMs > 0) {
      this.lagTimer = setInterval(() => void this.refreshLag().catch(() => {}), this.options.lagRefreshMs);
      this.lagTimer.unref();
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const live = () => isRunning() && !isStale() && !this.stopping;
    this.lag.observeHighWatermark(topic, partition, batch.highWatermark);
    for (const message of batch.messages) {
      if (!live()) return;
      if (this.gate.isPaused(topic, partition)) {
        // Leave the rest unresolved (refetched after resume) unless everything is paused.
        if (!this.allAssignedPaused()) return;
        while (this.gate.isPaused(topic, partition) && live()) {
          await this.gate.waitForResume(topic, partition, this.options.pausedHeartbeatMs);
          if (this.gate.isPaused(topic, partition) && live()) await heartbeat();
        }
        if (!live()) return;
      }
      this.deliver(topic, partition, message);
      resolveOffset(message.offset);
    }
    // The whole batch went: its last offset may be a marker after the last record (kafkajs resolves it too).
    if (live()) this.lag.observeDelivered(topic, partition, batch.lastOffset());
    await heartbeat();
  }

  private deliver(topic: string, partition: number, message: KafkaMessage): void {
    this.counters.consumed++;
    this.lag.observeDelivered(topic, partition, message.offset);
    this.subscriber?.next({
      topic,
      partition,
      offset: message.offset,
      key: message.key ?? null,
      value: message.value ?? null,
      headers: flattenHeaders(message.headers),
      timestamp: message.timestamp,
    });
  }

  private allAssignedPaused(): boolean {
    return this.assignment.every((tp) => this.gate.isPaused(tp.topic, tp.partition));
  }

  private onGroupJoin(memberAssignment: Record<string, number[]>, joinMs: number): void {
    if (this.lostAt !== undefined) {
      this.options.onEvent({ event: 'consumer-recovered', downMs: Date.now() - this.lostAt });
      this.lostAt = undefined;
    }
    const revoked = this.assignment;
    const assigned = Object.entries(memberAssignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition })),
    );
    this.assignment = assigned;
    this.counters.rebalances++;
    // When a worker got its partitions and how long the join took: a slow start or a
    // rebalance storm reads from the log, not from a debugger.
    this.options.onEvent({ event: 'group-joined', generation: this.counters.rebalances, joinMs, partitions: memberAssignment });
    this.lag.setAssignment(assigned);
    this.lag.resetPositions();
    this.rebalanceEvents.next({ generation: this.counters.rebalances, assigned, revoked });
    if (this.runStarted) void this.refreshLag().catch(() => {});
  }

  private fail(error: TeacherlmError): void {
    this.failure ??= error;
    void this.stop();
  }

  private async connectedAdmin(): Promise<ReturnType<Kafka['admin']>> {
    if (this.stopping) throw new TeacherlmError('SHUT_DOWN', 'the source is stopped');
    const admin = (this.admin ??= this.options.kafka.admin());
    // A failed connect is forgotten, so the next refresh tries again instead of failing for good.
    this.adminConnected ??= admin.connect().catch((err: unknown) => {
      this.adminConnected = undefined;
      throw asTeacherlmError(err, 'BROKER_UNREACHABLE', `could not connect the admin client: ${(err as Error).message}`);
    });
    await this.adminConnected;
    return admin;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.lagTimer);
    // Wakes a callback parked on a paused partition, so kafkajs can stop its fetch loop.
    this.gate.releaseAll();
    await this.starting;
    try {
      await this.consumer?.disconnect();
      // Even after a failed connect: kafkajs may hold a seed-broker socket from it.
      if (this.adminConnected) await this.adminConnected.catch(() => {});
      await this.admin?.disconnect().catch(() => {});
      await this.stableOffsets?.close();
    } finally {
      this.runStarted = false;
      this.rebalanceEvents.complete();
      if (this.failure) this.subscriber?.error(this.failure);
      else this.subscriber?.complete();
    }
  }
}

/** Why consuming could not start, as one line: a missing topic is named, anything else is the broker. */
function startFailure(err: unknown, topics: string[]): TeacherlmError {
  if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') {
    return new TeacherlmError('CONSUME_FAILED', `cannot consume ${topics.map((t) => `'${t}'`).join(', ')}: no such topic`, {
      cause: err,
      hint: 'check the topic name; topics are created from the topology (teacherlm run, teacherlm produce)',
    });
  }
  return asTeacherlmError(err, 'BROKER_UNREACHABLE', `could not start consuming: ${(err as Error).message}`);
}

/** kafkajs gives repeated header keys as arrays; the last value wins, as in Kafka's lastHeader(). */
function flattenHeaders(headers: IHeaders | undefined): SourceRecord['headers'] {
  const out: SourceRecord['headers'] = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    out[name] = Array.isArray(value) ? value[value.length - 1] : value;
  }
  return out;
}
