/**
 * `teacherlm student-feed --out DIR`: the augmented topic as training shards (JSON lines
 * `{"id","task","kind","text"}` in TeacherLM's training format), exactly once, with a
 * manifest of every shard's offsets. SIGINT/SIGTERM seal the open shard and stop; a
 * kill -9 loses nothing either (src/student-feed/feed.ts says why).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TeacherlmError } from '../errors.js';
import { startStudentFeed } from '../student-feed/feed.js';
import { openOutputReader } from '../service/topology-codecs.js';
import { parseKinds } from '../student-feed/sequences.js';
import { openCliKafka, topologyOption } from './cli-kafka.js';
import type { Command } from './command.js';

const HELP = `Usage: teacherlm student-feed --out DIR [options]

Writes the augmented topic as training shards: DIR/shard-NNNNNN.jsonl, one sequence per
line {"id","task","kind","text"} in TeacherLM's training format, and DIR/manifest.json
with every shard's offset range per partition. Exactly once, across kill -9 too.

Options:
  --out DIR            output folder (created if missing)
  --kinds LIST         sequences to write, from cot,fundamentals,mistakes (default all three)
  --topic T            default: the topology's output topic
  --topology FILE      default: topologies/default.yaml
  --group NAME         consumer group (default teacherlm-student-feed); one folder per group
  --shard-records N    seal a shard once it holds N lines (default 10000)
  --shard-seconds S    seal a non-empty shard S seconds after it opened (default 60)
  --until-idle MS      stop after MS with no record consumed
  -h, --help           this help`;

export const DEFAULT_FEED_GROUP = 'teacherlm-student-feed';
/** The group forgets a killed feed this soon, so a restart resumes within seconds. */
const SESSION_TIMEOUT_MS = 10_000;

function positiveInt(value: string | undefined, field: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new TeacherlmError('INVALID_OPTIONS', `${field}: expected a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

export const studentFeedCommand: Command = {
  summary: 'write the augmented topic as training shards, exactly once',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        kinds: { type: 'string', default: 'cot,fundamentals,mistakes' },
        topic: { type: 'string' },
        topology: { type: 'string' },
        group: { type: 'string', default: DEFAULT_FEED_GROUP },
        'shard-records': { type: 'string' },
        'shard-seconds': { type: 'string' },
        'until-idle': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length > 0) throw new TeacherlmError('INVALID_OPTIONS', `unexpected argument '${positionals[0]}'`);
    if (values.out === undefined || values.out.trim() === '') throw new TeacherlmError('INVALID_OPTIONS', '--out: expected an output folder');
    if (values.group.trim() === '') throw new TeacherlmError('INVALID_OPTIONS', '--group: expected a non-empty name');
    if (values.topic !== undefined && values.topic.trim() === '') throw new TeacherlmError('INVALID_OPTIONS', '--topic: expected a non-empty name');
    const kinds = parseKinds(values.kinds);
    const shardSequences = positiveInt(values['shard-records'], '--shard-records', 10_000)!;
    const shardSeconds = positiveInt(values['shard-seconds'], '--shard-seconds', 60)!;
    const untilIdleMs = positiveInt(values['until-idle'], '--until-idle');
    const topology = topologyOption(values.topology);
    const topic = values.topic ?? topology.output.topic;

    const log = (fields: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), ...fields })}\n`);
    const { kafka, close } = await openCliKafka('teacherlm-student-feed');
    // Confluent-format records need the registry (the topology's format, or SCHEMA_REGISTRY_URL), as for `tail`.
    const { reader, close: closeReader } = await openOutputReader(topology, (line) => process.stderr.write(`teacherlm: ${line}\n`)).catch(async (err: unknown) => {
      await close();
      throw err;
    });
    try {
      const feed = await startStudentFeed({
        kafka,
        topic,
        groupId: values.group,
        dir: resolve(values.out),
        kinds,
        shardSequences,
        shardMs: shardSeconds * 1000,
        untilIdleMs,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        log,
        reader,
      });
      let signals = 0;
      const onSignal = () => {
        // First signal: seal and stop; a second one exits at once (the manifest still holds).
        if (++signals > 1) process.exit(130);
        feed.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const summary = await feed.done;
        log({ event: 'summary', ...summary });
        return 0;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    } finally {
      await closeReader();
      await close();
    }
  },
};
