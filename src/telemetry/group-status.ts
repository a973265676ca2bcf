/**
 * A consumer group's state as Kafka knows it, read with the admin client: per partition
 * of the input topic, the committed offset, the log end and the lag between them; the
 * group's members and their partitions; and the records on the dead-letter topic.
 * What `teacherlm status` shows, whether or not a worker is running.
 */
import { AssignerProtocol, type Admin } from 'kafkajs';
import { TeacherlmError, asTeacherlmError } from '../errors.js';

export interface PartitionStatus {
  partition: number;
  /** The group's next offset to read; undefined when it never committed there. */
  committed: string | undefined;
  /** Next offset the log will write. */
  end: string;
  /** end minus committed (minus the log start when nothing is committed). */
  lag: number;
}

export interface MemberStatus {
  memberId: string;
  clientId: string;
  host: string;
  partitions: number[];
}

export interface GroupStatus {
  group: string;
  topic: string;
  /** Kafka's group state: Stable, Empty, PreparingRebalance, Dead, ... */
  state: string;
  partitions: PartitionStatus[];
  members: MemberStatus[];
  /** Records the dead-letter topic holds (log end minus log start, over its partitions); undefined when it does not exist. */
  deadLetters: number | undefined;
  /** Sum of the committed offsets: its change over time is the group's throughput. */
  committedTotal: bigint;
  /** When it was read (ms since the epoch). */
  at: number;
}

export async function readGroupStatus(
  admin: Admin,
  options: { group: string; topic: string; deadLetterTopic?: string; now?: () => number },
): Promise<GroupStatus> {
  const { group, topic } = options;
  // kafkajs retries offsets of a missing topic for about a minute: look first.
  const topics = new Set(await admin.listTopics().catch((err: unknown) => {
    throw asTeacherlmError(err, 'BROKER_UNREACHABLE', `could not list topics: ${(err as Error).message}`);
  }));
  if (!topics.has(topic)) {
    throw new TeacherlmError('INVALID_OPTIONS', `topic '${topic}' does not exist`, { hint: 'check --topology or --group; teacherlm run creates the topology\'s topics' });
  }
  const deadLetterTopic = options.deadLetterTopic !== undefined && topics.has(options.deadLetterTopic) ? options.deadLetterTopic : undefined;
  try {
    const [ends, committed, described, deadLetters] = await retryRetriable(() =>
      Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: group, topics: [topic] }),
        admin.describeGroups([group]),
        deadLetterTopic ? admin.fetchTopicOffsets(deadLetterTopic) : Promise.resolve(undefined),
      ]),
    );
    const committedOf = new Map((committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]));
    let committedTotal = 0n;
    const partitions = ends
      .map((p): PartitionStatus => {
        const at = committedOf.get(p.partition);
        const known = at !== undefined && BigInt(at) >= 0n ? at : undefined;
        if (known !== undefined) committedTotal += BigInt(known);
        const from = BigInt(known ?? p.low);
        const end = BigInt(p.high);
        return { partition: p.partition, committed: known, end: p.high, lag: end > from ? Number(end - from) : 0 };
      })
      .sort((a, b) => a.partition - b.partition);
    const description = described.groups.find((g) => g.groupId === group);
    const members = (description?.members ?? []).map((m): MemberStatus => {
      const assignment = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
      return { memberId: m.memberId, clientId: m.clientId, host: m.clientHost, partitions: [...(assignment?.assignment[topic] ?? [])].sort((a, b) => a - b) };
    });
    return {
      group,
      topic,
      state: description?.state ?? 'Unknown',
      partitions,
      members,
      deadLetters: deadLetters?.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0),
      committedTotal,
      at: (options.now ?? Date.now)(),
    };
  } catch (err) {
    throw asTeacherlmError(err, 'BROKER_UNREACHABLE', `could not read group '${group}' on '${topic}': ${(err as Error).message}`);
  }
}

/**
 * The reads again, a few times, on an error kafkajs calls retriable: describeGroups does
 * not retry NOT_COORDINATOR itself, which a group whose coordinator just moved or was
 * just created answers for a moment.
 */
async function retryRetriable<T>(read: () => Promise<T>, attempts = 5, firstWaitMs = 200): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= attempts || (err as { retriable?: boolean }).retriable !== true) throw err;
      await new Promise((resolve) => setTimeout(resolve, firstWaitMs * 2 ** (attempt - 1)));
    }
  }
}
