/**
 * Where the local schema registry keeps its things, beside the broker's under the
 * project's `.cache/` (or TEACHERLM_CACHE_DIR):
 *
 *   registry/<version>/app/       the Apicurio Registry Quarkus app (untarred once)
 *   registry/registry-<port>/     one registry: registry.log, registry.pid, data/ (H2 files)
 *
 * What coordinates the users of a port (start lock, leases, registry.json) lives in a
 * machine-wide folder, `<tmpdir>/teacherlm-registry-<uid>/port-<port>/`, as for the broker.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../project-root.js';

/** Apicurio Registry 3.3.3 serves the Confluent-compatible API at /apis/ccompat/v7 (checked with confluent-kafka 2.16.1). */
export const DEFAULT_REGISTRY_VERSION = '3.3.3';
/** HTTP on this port, management (health) on port + 1; 18080-18089 are the registry's. */
export const DEFAULT_REGISTRY_PORT = 18080;
export const REGISTRY_HOST = '127.0.0.1';
/** The Confluent-compatible API under the registry's root. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

export interface RegistryPaths {
  appDir: string;
  runJar: string;
  registryDir: string;
  logFile: string;
  pidFile: string;
  dataDir: string;
  /** The H2 database file prefix (H2 adds `.mv.db`). */
  database: string;
  runtimeDir: string;
  stateFile: string;
  leasesDir: string;
  startLock: string;
}

export function registryCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.TEACHERLM_CACHE_DIR ? resolve(env.TEACHERLM_CACHE_DIR) : join(PROJECT_ROOT, '.cache');
  return join(base, 'registry');
}

export function registryPaths(port: number, version: string, cacheDir: string = registryCacheDir()): RegistryPaths {
  const appDir = join(cacheDir, version, 'app');
  const registryDir = join(cacheDir, `registry-${port}`);
  const runtime = join(process.env.TEACHERLM_REGISTRY_RUNTIME_DIR ?? join(tmpdir(), `teacherlm-registry-${process.getuid?.() ?? 'user'}`), `port-${port}`);
  const dataDir = join(registryDir, 'data');
  return {
    appDir,
    runJar: join(appDir, 'quarkus-run.jar'),
    registryDir,
    logFile: join(registryDir, 'registry.log'),
    pidFile: join(registryDir, 'registry.pid'),
    dataDir,
    database: join(dataDir, 'registry'),
    runtimeDir: runtime,
    stateFile: join(runtime, 'registry.json'),
    leasesDir: join(runtime, 'leases'),
    startLock: join(runtime, 'start.lock'),
  };
}
