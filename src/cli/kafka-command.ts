/**
 * `teacherlm kafka start|stop|status|fetch [--port N]`: the local Kafka broker (KRaft,
 * no Docker). See src/kafka/local/broker.ts.
 */
import { parseArgs } from 'node:util';
import { TeacherlmError } from '../errors.js';
import { intArg } from '../options.js';
import { fetchBrokerJars } from '../kafka/local/broker-jars.js';
import { brokerPaths, DEFAULT_KAFKA_PORT, DEFAULT_KAFKA_VERSION, kafkaCacheDir } from '../kafka/local/paths.js';
import { localBrokerStatus, startLocalBroker, stopLocalBroker } from '../kafka/local/broker.js';
import type { Command } from './command.js';

const USAGE = `Usage: teacherlm kafka <start|stop|status|fetch> [options]

  start    resolve the jars (first time), start the broker, print its bootstrap address
  stop     stop it (SIGTERM, then SIGKILL after 30 s); no java process is left
  status   say whether it is running, and where (exit code 0 running, 3 not running)
  fetch    only resolve the broker jars from Maven Central (for CI caches)

Options:
  --port N      client port on 127.0.0.1 (default ${DEFAULT_KAFKA_PORT}; the controller uses N+1)
  --fresh       (start) wipe the broker's data first
  --heap MB     (start) JVM max heap (default 512)
  -h, --help    this text

Kafka ${DEFAULT_KAFKA_VERSION} (TEACHERLM_KAFKA_VERSION overrides); files under .cache/kafka/.`;

export function parsePort(value: string | undefined): number {
  if (value === undefined) return Number(process.env.TEACHERLM_KAFKA_PORT || DEFAULT_KAFKA_PORT);
  return intArg('--port', value, { min: 1024, max: 65534 }) as number;
}

/** `--heap MB`, checked here so the message names the flag the user typed. */
export function parseHeap(value: string | undefined): number | undefined {
  return intArg('--heap', value, { min: 128 });
}

export const kafkaCommand: Command = {
  summary: 'start, stop or inspect the local Kafka broker',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        fresh: { type: 'boolean', default: false },
        heap: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [action, ...extra] = positionals;
    if (values.help || !action) {
      console.log(USAGE);
      return values.help ? 0 : 1;
    }
    if (extra.length > 0) throw new TeacherlmError('INVALID_OPTIONS', `unexpected argument '${extra[0]}'`);
    const port = parsePort(values.port);
    const heapMb = parseHeap(values.heap);
    const log = (line: string) => console.error(`teacherlm: ${line}`);

    switch (action) {
      case 'start': {
        const began = Date.now();
        const broker = await startLocalBroker({ port, fresh: values.fresh, log, ...(heapMb !== undefined ? { heapMb } : {}) });
        const how = broker.startedHere ? `started in ${((Date.now() - began) / 1000).toFixed(1)} s` : 'already running';
        console.error(`teacherlm: Kafka ${broker.version} ${how} (pid ${broker.pid}), logs in ${broker.logFile}`);
        console.log(broker.bootstrap);
        return 0;
      }
      case 'stop': {
        const res = await stopLocalBroker({ port });
        if (res.usersCut > 0) console.error(`teacherlm: warning: ${res.usersCut} process(es) were still using it (e.g. a test run)`);
        console.log(res.wasRunning ? `stopped the Kafka broker on 127.0.0.1:${port} (pid ${res.pid}, ${res.how})` : `no Kafka broker running on 127.0.0.1:${port}`);
        return 0;
      }
      case 'status': {
        const s = await localBrokerStatus({ port });
        if (s.running) console.log(`running: Kafka ${s.version} at ${s.bootstrap} (pid ${s.pid}, started by ${s.owner}), logs in ${s.logFile}`);
        else console.log(`not running (would listen on ${s.bootstrap})`);
        return s.running ? 0 : 3;
      }
      case 'fetch': {
        const version = process.env.TEACHERLM_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
        const libs = await fetchBrokerJars(brokerPaths(port, version, kafkaCacheDir()).libsDir, version, log);
        console.log(libs);
        return 0;
      }
      default:
        throw new TeacherlmError('INVALID_OPTIONS', `unknown kafka action '${action}'`, { hint: 'use start, stop, status or fetch' });
    }
  },
};
