/**
 * `teacherlm registry start|stop|status|fetch [--port N]`: the local schema registry
 * (Apicurio Registry, no Docker). See src/registry/local-registry.ts.
 */
import { parseArgs } from 'node:util';
import { TeacherlmError } from '../errors.js';
import { intArg } from '../options.js';
import { CCOMPAT_PATH, registryPaths } from '../registry/local/paths.js';
import { fetchRegistryApp } from '../registry/local/registry-app.js';
import { DEFAULT_REGISTRY_PORT, DEFAULT_REGISTRY_VERSION, localRegistryStatus, startLocalRegistry, stopLocalRegistry } from '../registry/local-registry.js';
import type { Command } from './command.js';
import { parseHeap } from './kafka-command.js';

const USAGE = `Usage: teacherlm registry <start|stop|status|fetch> [options]

  start    fetch Apicurio Registry (first time), start it, print its Confluent-compatible URL
  stop     stop it (SIGTERM, then SIGKILL after 20 s)
  status   say whether it is running, and where (exit code 0 running, 3 not running)
  fetch    only fetch the registry from Maven Central (for CI caches)

Options:
  --port N      HTTP port on 127.0.0.1 (default ${DEFAULT_REGISTRY_PORT}; management uses N+1)
  --fresh       (start) wipe the stored schemas first
  --heap MB     (start) JVM max heap (default 384)
  -h, --help    this text

Apicurio Registry ${DEFAULT_REGISTRY_VERSION} (needs Java 21+); files under .cache/registry/.`;

/** `--port`, else TEACHERLM_REGISTRY_PORT, else the default; the message names whichever was given. */
export function parseRegistryPort(value: string | undefined): number {
  const range = { min: 1024, max: 65534 };
  if (value !== undefined) return intArg('--port', value, range)!;
  const env = process.env.TEACHERLM_REGISTRY_PORT;
  return env === undefined || env === '' ? DEFAULT_REGISTRY_PORT : intArg('TEACHERLM_REGISTRY_PORT', env, range)!;
}

export const registryCommand: Command = {
  summary: 'start, stop or inspect the local schema registry',
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
    const port = parseRegistryPort(values.port);
    const heapMb = parseHeap(values.heap);
    const log = (line: string) => console.error(`teacherlm: ${line}`);

    switch (action) {
      case 'start': {
        const began = Date.now();
        const registry = await startLocalRegistry({ port, fresh: values.fresh, log, ...(heapMb !== undefined ? { heapMb } : {}) });
        const how = registry.startedHere ? `started in ${((Date.now() - began) / 1000).toFixed(1)} s` : 'already running';
        console.error(`teacherlm: Apicurio Registry ${DEFAULT_REGISTRY_VERSION} ${how} (pid ${registry.pid}), logs in ${registry.logFile}`);
        console.log(`${registry.url}${CCOMPAT_PATH}`);
        return 0;
      }
      case 'stop': {
        const res = await stopLocalRegistry({ port });
        if (res.usersCut > 0) console.error(`teacherlm: warning: ${res.usersCut} process(es) were still using it (e.g. a test run)`);
        console.log(res.wasRunning ? `stopped the schema registry on 127.0.0.1:${port} (pid ${res.pid}, ${res.how})` : `no schema registry running on 127.0.0.1:${port}`);
        return 0;
      }
      case 'status': {
        const s = await localRegistryStatus({ port });
        if (s.running) console.log(`running: Apicurio Registry at ${s.url}${CCOMPAT_PATH} (pid ${s.pid}, started by ${s.owner}), logs in ${s.logFile}`);
        else console.log(`not running (would listen on ${s.url})`);
        return s.running ? 0 : 3;
      }
      case 'fetch': {
        console.log(await fetchRegistryApp(registryPaths(port, DEFAULT_REGISTRY_VERSION).appDir, DEFAULT_REGISTRY_VERSION, log));
        return 0;
      }
      default:
        throw new TeacherlmError('INVALID_OPTIONS', `unknown registry action '${action}'`, { hint: 'use start, stop, status or fetch' });
    }
  },
};
