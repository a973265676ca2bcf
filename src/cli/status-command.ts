/**
 * `teacherlm status [--topology FILE] [--group NAME] [--metrics URL] [--watch]`: the
 * group's lag per partition, its members, its throughput and the dead-letter count, from
 * Kafka's admin API, plus a worker's own figures when `--metrics` names its endpoint.
 * One reading, or with `--watch` one every `--interval` ms, redrawn in place on a TTY.
 */
import { parseArgs } from 'node:util';
import { intArg, nonEmptyString, rejectOption } from '../options.js';
import { readGroupStatus } from '../telemetry/group-status.js';
import { type StatusReading, renderStatus } from '../telemetry/render-status.js';
import { scrapeWorker } from '../telemetry/worker-scrape.js';
import { connectKafka, topologyOption } from './cli-kafka.js';
import type { Command } from './command.js';

const HELP = `Usage: teacherlm status [--topology FILE] [options]

Shows the consumer group of the topology: lag per partition of its input topic, members,
throughput (committed records/s) and the dead-letter count; with --metrics, a worker's
written records, queue, busy share and tokens/s from its /metrics.

Options:
  --topology FILE   topology YAML (default: topologies/default.yaml)
  --group NAME      consumer group (default: the topology's)
  --metrics URL     a worker's metrics endpoint, e.g. http://127.0.0.1:9464/metrics
  --watch           refresh until interrupted (in place on a TTY)
  --interval MS     time between readings (default 1000); rates need two readings
  --json            one JSON object per reading instead of text
  -h, --help        this help`;

export const statusCommand: Command = {
  summary: "show a consumer group's lag, members, throughput and dead letters (and a worker's metrics)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        topology: { type: 'string' },
        group: { type: 'string' },
        metrics: { type: 'string' },
        watch: { type: 'boolean' },
        interval: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const intervalMs = intArg('--interval', values.interval, { min: 10 }) ?? 1_000;
    const topology = topologyOption(values.topology);
    const group = values.group === undefined ? topology.consumer.group : nonEmptyString('--group', values.group, 'a non-empty name');
    const metricsUrl = values.metrics === undefined ? undefined : metricsUrlOption(values.metrics);
    const { kafka, brokers } = await connectKafka('teacherlm-status');
    const admin = kafka.admin();
    const out = process.stdout;
    let stopped = false;
    const stop = (): void => {
      stopped = true;
    };
    process.once('SIGINT', stop).once('SIGTERM', stop);
    try {
      await admin.connect();
      const read = async (): Promise<StatusReading> => {
        // Both settle before either failure is thrown: disconnecting the admin mid-request leaves kafkajs retrying.
        const [groupStatus, worker] = await Promise.allSettled([
          readGroupStatus(admin, { group, topic: topology.input.topic, deadLetterTopic: topology.deadLetter.topic }),
          metricsUrl ? scrapeWorker(metricsUrl) : Promise.resolve(undefined),
        ]);
        if (groupStatus.status === 'rejected') throw groupStatus.reason;
        if (worker.status === 'rejected') throw worker.reason;
        return worker.value ? { group: groupStatus.value, worker: worker.value } : { group: groupStatus.value };
      };
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const show = (current: StatusReading, previous: StatusReading | undefined, redraw: boolean): void => {
        if (values.json) {
          out.write(`${JSON.stringify({ ...current, group: { ...current.group, committedTotal: current.group.committedTotal.toString() } })}\n`);
          return;
        }
        // Home and clear the screen, so each reading replaces the last one.
        out.write(`${redraw ? '\x1b[H\x1b[2J' : ''}${renderStatus(current, previous)}`);
      };
      // Rates need two readings: a one-shot status takes two, --interval apart.
      let previous = await read();
      if (!values.watch) {
        await sleep(intervalMs);
        show(await read(), previous, false);
        return 0;
      }
      const tty = out.isTTY === true;
      show(previous, undefined, tty);
      while (!stopped) {
        await sleep(intervalMs);
        if (stopped) break;
        const current = await read();
        show(current, previous, tty);
        previous = current;
      }
      return 0;
    } finally {
      process.off('SIGINT', stop).off('SIGTERM', stop);
      await admin.disconnect();
      await brokers.stop();
    }
  },
};

function metricsUrlOption(text: string): string {
  const expected = 'an http URL such as http://127.0.0.1:9464/metrics';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    rejectOption('--metrics', expected, text);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') rejectOption('--metrics', expected, text);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/metrics';
  return url.toString();
}
