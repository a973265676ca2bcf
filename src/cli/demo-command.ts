/**
 * `teacherlm demo` (`npm run demo`): one command for a new user. Starts what it needs
 * (broker, model, topics), sends 24 CREAK samples through the real pipeline, prints
 * them with their three explanations, and stops everything it started. See
 * src/demo/run-demo.ts for the steps.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseFieldMap } from '../records/field-map.js';
import { TeacherlmError } from '../errors.js';
import { intArg } from '../options.js';
import { renderResults } from '../demo/render-results.js';
import { runDemo } from '../demo/run-demo.js';
import { signalHandler } from './signal-handler.js';
import { startTelemetry } from '../telemetry/setup.js';
import { PROJECT_ROOT } from '../project-root.js';
import { connectKafka, topologyOption } from './cli-kafka.js';
import type { Command } from './command.js';

const DEMO_SAMPLES = join(PROJECT_ROOT, 'data', 'creak-demo.jsonl');
const DEMO_MAP = 'id=ex_id,task=task_name';

const USAGE = `Usage: teacherlm demo [options]

Starts the local Kafka broker unless KAFKA_BROKERS is set, imports the default teacher
model if it is missing, creates the topics, produces 24 CREAK samples (CC BY-SA 4.0,
Onoe et al. 2021; see data/README.md), runs the pipeline until each one is augmented or
dead-lettered, prints them, and stops everything it started.

Options:
  --topology FILE   default: topologies/default.yaml (topologies/echo.yaml: no model, seconds)
  --samples FILE    JSON lines (default: data/creak-demo.jsonl)
  --map SPEC        field names of --samples (default for the bundled file: ${DEMO_MAP})
  --timeout S       give up after S seconds (default 1800)
  -h, --help        this text`;

export const demoCommand: Command = {
  summary: 'run 24 CREAK samples through the whole pipeline and print them',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        topology: { type: 'string' },
        samples: { type: 'string' },
        map: { type: 'string' },
        timeout: { type: 'string', default: '1800' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new TeacherlmError('INVALID_OPTIONS', `unexpected argument '${positionals[0]}'`);
    const timeoutSeconds = intArg('--timeout', values.timeout) as number;
    const samplesFile = values.samples ?? DEMO_SAMPLES;
    const fieldMap = parseFieldMap(values.map ?? (values.samples ? undefined : DEMO_MAP), '--map');
    const topology = topologyOption(values.topology);
    const log = (line: string) => process.stderr.write(`teacherlm: ${line}\n`);

    const telemetry = startTelemetry({ serviceName: 'teacherlm-demo' });
    let stopDemo!: (reason: string) => void;
    const interrupted = new Promise<string>((resolve) => (stopDemo = resolve));
    const onSignal = signalHandler({
      shutdown: () => {
        log('stopping (Ctrl-C again to force)');
        stopDemo('interrupted');
      },
      forceExit: () => process.exit(130), // a second Ctrl-C does not wait
    });
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    const { kafka, brokers } = await connectKafka('teacherlm-demo').catch(async (err: unknown) => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      await telemetry.shutdown();
      throw err;
    });
    try {
      const result = await runDemo({
        kafka,
        topology,
        samplesFile,
        fieldMap,
        root: PROJECT_ROOT,
        timeoutMs: timeoutSeconds * 1000,
        log,
        interrupted,
        onOutcome: (id, outcome, seen, total) => log(`${seen}/${total} ${id} ${outcome.kind === 'augmented' ? 'augmented' : 'dead-lettered'}`),
      });
      console.log(`\n${renderResults(result.ids, result.outcomes)}\n`);
      const outcomes = [...result.outcomes.values()];
      const augmented = outcomes.filter((o) => o.kind === 'augmented').length;
      const summary = `${result.ids.length} samples: ${augmented} augmented, ${outcomes.length - augmented} dead-lettered, in ${result.seconds.toFixed(1)} s (topology ${topology.name})`;
      if (result.incomplete) {
        log(`${summary}; ${result.ids.length - outcomes.length} missing: ${result.incomplete}`);
        return 1;
      }
      console.log(summary);
      return 0;
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      await brokers.stop();
      await telemetry.shutdown();
    }
  },
};
