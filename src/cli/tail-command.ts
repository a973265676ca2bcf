/**
 * `teacherlm tail [--from-beginning] [--max N] [--topic T]`: records of the augmented
 * topic, decoded with the pipeline's codecs, as JSON lines on stdout.
 *
 * It reads through a throwaway consumer group and never commits, so it never moves a
 * real consumer's offsets. When stdout cannot keep up (a slow pipe), it pauses the
 * partitions until stdout drains, so memory stays bounded. It exits after N records, or
 * on SIGINT/SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { concatMap, take } from 'rxjs';
import { TeacherlmError } from '../errors.js';
import { intArg, nonEmptyString } from '../options.js';
import { KafkaSource } from '../kafka/source.js';
import type { SourceRecord } from '../pipeline/ports.js';
import { openOutputReader } from '../service/topology-codecs.js';
import { toJsonLine } from '../tail/json-line.js';
import { endSpan, messagingAttributes, startConsumerSpan } from '../telemetry/spans.js';
import { openCliKafka, topologyOption } from './cli-kafka.js';
import type { Command } from './command.js';

const USAGE = `Usage: teacherlm tail [options]

Prints the records of the augmented topic as JSON lines (dead letters too, with
--topic samples.dead-letter), until N records or Ctrl-C.

Options:
  --from-beginning   start at the oldest record (default: only new records)
  --max N            exit after N records
  --topic T          default: the topology's output topic
  --topology FILE    default: topologies/default.yaml
  -h, --help         this text

Records in the Confluent wire format are decoded with the registry at SCHEMA_REGISTRY_URL,
or the local one when the topology's output.format is confluent.`;

export const tailCommand: Command = {
  summary: 'print augmented records as JSON lines',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'from-beginning': { type: 'boolean', default: false },
        max: { type: 'string' },
        topic: { type: 'string' },
        topology: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new TeacherlmError('INVALID_OPTIONS', `unexpected argument '${positionals[0]}'`);
    const max = intArg('--max', values.max);
    if (values.topic !== undefined) nonEmptyString('--topic', values.topic, 'a topic name');
    const topology = values.topic === undefined || values.topology !== undefined ? topologyOption(values.topology) : undefined;
    const topic = values.topic ?? topology!.output.topic;

    const { kafka, close } = await openCliKafka('teacherlm-tail');
    const { reader, close: closeReader } = await openOutputReader(topology, (line) => console.error(`teacherlm: ${line}`));
    const source = new KafkaSource({
      kafka,
      groupId: `teacherlm-tail-${randomUUID()}`,
      topics: [topic],
      fromBeginning: values['from-beginning'],
      lagRefreshMs: 0,
    });
    const stop = () => void source.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // A closed pipe (`teacherlm tail | head`) ends the tail quietly.
    const onStdoutError = () => void source.stop();
    process.stdout.on('error', onStdoutError);
    const drain = () => {
      for (const tp of source.assigned()) source.resume(tp.topic, tp.partition);
    };
    process.stdout.on('drain', drain);

    const print = (record: SourceRecord) => {
      const span = startConsumerSpan(`${topic} receive`, record.headers, messagingAttributes('receive', { topic: record.topic, partition: record.partition, offset: record.offset }));
      try {
        const decoded = reader.decode(record.value);
        span.setAttribute('teacherlm.sample.id', 'id' in decoded.record ? decoded.record.id : String(decoded.record.sampleId));
        if (!process.stdout.write(`${toJsonLine(decoded.record)}\n`)) {
          for (const tp of source.assigned()) source.pause(tp.topic, tp.partition);
        }
        endSpan(span);
      } catch (err) {
        process.stderr.write(`teacherlm: ${record.topic}/${record.partition}@${record.offset}: ${(err as Error).message}\n`);
        endSpan(span, err);
      }
    };

    try {
      await new Promise<void>((resolve, reject) => {
        // A Confluent writer id seen for the first time is looked up in the registry, in order.
        const loaded = source.records().pipe(
          concatMap(async (record) => {
            await reader.prepare(record.value)?.catch(() => {}); // print() reports what still cannot be decoded
            return record;
          }),
        );
        const records = max === undefined ? loaded : loaded.pipe(take(max));
        records.subscribe({ next: print, error: reject, complete: resolve });
      });
      return 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('drain', drain);
      await source.stop();
      await closeReader();
      await close();
      process.stdout.off('error', onStdoutError);
    }
  },
};
