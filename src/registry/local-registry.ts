/**
 * A real schema registry on this machine, without Docker: Apicurio Registry (Apache-2.0),
 * whose Confluent-compatible API is at `/apis/ccompat/v7`, run as a detached
 * `java -jar quarkus-run.jar`, made like the local broker (../kafka/local-broker.ts):
 *
 * - `startLocalRegistry` fetches the app (Maven, once), finds a Java 21+, starts the JVM
 *   with HTTP on 127.0.0.1:port and management (health) on 127.0.0.1:port+1, and returns
 *   when the API answers.
 * - `stopLocalRegistry` sends SIGTERM, waits, then SIGKILL.
 * - `acquireLocalRegistry` is the lease-counted form: a registry it started on demand
 *   stops when its last user releases it; one started by `teacherlm registry start` stays.
 *
 * Storage is Apicurio's SQL store on an H2 **file** under `registry-<port>/data/`, not
 * its in-memory default: schemas (and so the ids in old records) survive a restart, and
 * the registry does not depend on which Kafka broker a run uses.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TeacherlmError } from '../errors.js';
import { intOption } from '../options.js';
import { acquireOnDemand, clearLeases, liveLeases, withFileLock } from '../kafka/local/leases.js';
import { isPortFree } from '../kafka/local/port-check.js';
import { isAlive, terminate } from '../kafka/local/processes.js';
import { findJava } from './local/find-java.js';
import { CCOMPAT_PATH, DEFAULT_REGISTRY_PORT, DEFAULT_REGISTRY_VERSION, REGISTRY_HOST, registryCacheDir, registryPaths, type RegistryPaths } from './local/paths.js';
import { fetchRegistryApp } from './local/registry-app.js';

export { DEFAULT_REGISTRY_PORT, DEFAULT_REGISTRY_VERSION } from './local/paths.js';

/** Apicurio 3.x is built for Java 21 (Java 17 fails with UnsupportedClassVersionError). */
export const REGISTRY_MIN_JAVA = 21;

export type RegistryOwner = 'cli' | 'on-demand';

export interface LocalRegistryOptions {
  /** HTTP port on 127.0.0.1, default 18080; management uses port + 1. */
  port?: number;
  version?: string;
  cacheDir?: string;
  /** JVM max heap, MiB. Default 384. */
  heapMb?: number;
  /** Default 180 s (a Quarkus start on a busy 2-core machine takes 5-30 s). */
  startTimeoutMs?: number;
  /** Wipe the registry's stored schemas before starting. */
  fresh?: boolean;
  log?: (line: string) => void;
}

export interface LocalRegistryStatus {
  running: boolean;
  pid?: number;
  owner?: RegistryOwner;
  /** The registry's root, e.g. http://127.0.0.1:18080 (clients append /apis/ccompat/v7). */
  url: string;
  port: number;
  managementPort: number;
  logFile: string;
  dataDir: string;
}

export interface StartedLocalRegistry extends LocalRegistryStatus {
  running: true;
  pid: number;
  startedHere: boolean;
}

export interface LocalRegistryLease {
  registry: StartedLocalRegistry;
  release(): Promise<void>;
}

interface RegistryState {
  pid: number;
  port: number;
  owner: RegistryOwner;
  version: string;
  startedAt: string;
  registryDir: string;
  logFile: string;
  dataDir: string;
}

interface Resolved {
  port: number;
  version: string;
  heapMb: number;
  startTimeoutMs: number;
  paths: RegistryPaths;
  log: (line: string) => void;
}

const STOP_GRACE_MS = 20_000;

function resolveOptions(options: LocalRegistryOptions): Resolved {
  // Management takes port + 1.
  const port = intOption('port', options.port, DEFAULT_REGISTRY_PORT, { min: 1024, max: 65534 });
  const heapMb = intOption('heapMb', options.heapMb, 384, { min: 128 });
  const version = options.version ?? DEFAULT_REGISTRY_VERSION;
  return {
    port,
    version,
    heapMb,
    startTimeoutMs: options.startTimeoutMs ?? 180_000,
    paths: registryPaths(port, version, options.cacheDir ?? registryCacheDir()),
    log: options.log ?? (() => {}),
  };
}

/** The marker on the JVM's command line that ties a process to one registry folder. */
function marker(registryDir: string): string {
  return `-Dteacherlm.registry.dir=${registryDir}`;
}

function isRegistryProcess(pid: number, registryDir: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker(registryDir));
  } catch {
    return true; // no /proc: trust the pid
  }
}

function readState(paths: RegistryPaths): RegistryState | undefined {
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as RegistryState;
  } catch {
    return undefined;
  }
}

function writeState(paths: RegistryPaths, state: RegistryState): void {
  mkdirSync(paths.runtimeDir, { recursive: true });
  writeFileSync(paths.stateFile, JSON.stringify(state, null, 2));
  writeFileSync(paths.pidFile, `${state.pid}\n`);
}

function clearState(paths: RegistryPaths): void {
  rmSync(paths.stateFile, { force: true });
  rmSync(paths.pidFile, { force: true });
}

function running(paths: RegistryPaths): { pid: number; state: RegistryState | undefined } | undefined {
  const state = readState(paths);
  if (state && isRegistryProcess(state.pid, state.registryDir)) return { pid: state.pid, state };
  const fromFile = existsSync(paths.pidFile) ? Number(readFileSync(paths.pidFile, 'utf8').trim()) : NaN;
  if (fromFile > 0 && isRegistryProcess(fromFile, paths.registryDir)) return { pid: fromFile, state: undefined };
  return undefined;
}

function statusOf(r: Resolved): LocalRegistryStatus {
  const now = running(r.paths);
  return {
    running: now !== undefined,
    ...(now ? { pid: now.pid, owner: now.state?.owner ?? 'cli' } : {}),
    url: `http://${REGISTRY_HOST}:${r.port}`,
    port: r.port,
    managementPort: r.port + 1,
    logFile: now?.state?.logFile ?? r.paths.logFile,
    dataDir: now?.state?.dataDir ?? r.paths.dataDir,
  };
}

export async function localRegistryStatus(options: LocalRegistryOptions = {}): Promise<LocalRegistryStatus> {
  return statusOf(resolveOptions(options));
}

export async function startLocalRegistry(options: LocalRegistryOptions & { owner?: RegistryOwner } = {}): Promise<StartedLocalRegistry> {
  const r = resolveOptions(options);
  return withFileLock(r.paths.startLock, r.startTimeoutMs + 120_000, () => startLocked(r, options.owner ?? 'cli', options.fresh ?? false));
}

/** The JVM's environment: loopback only, management moved beside HTTP, H2 on a file, small pools. */
export function registryEnvironment(port: number, database: string): Record<string, string> {
  return {
    QUARKUS_HTTP_HOST: REGISTRY_HOST,
    QUARKUS_HTTP_PORT: String(port),
    QUARKUS_MANAGEMENT_HOST: REGISTRY_HOST,
    QUARKUS_MANAGEMENT_PORT: String(port + 1),
    APICURIO_STORAGE_KIND: 'sql',
    APICURIO_STORAGE_SQL_KIND: 'h2',
    APICURIO_DATASOURCE_URL: `jdbc:h2:file:${database}`,
    // The defaults (20 to 100 connections) are sized for a server, not a laptop.
    APICURIO_DATASOURCE_JDBC_INITIAL_SIZE: '2',
    APICURIO_DATASOURCE_JDBC_MIN_SIZE: '2',
    APICURIO_DATASOURCE_JDBC_MAX_SIZE: '10',
  };
}

async function startLocked(r: Resolved, owner: RegistryOwner, fresh: boolean): Promise<StartedLocalRegistry> {
  const current = running(r.paths);
  if (current) {
    // Possibly another checkout's registry (registry.json is machine-wide): identify it by its own folder.
    await waitUntilReady(r, current.pid, current.state?.registryDir ?? r.paths.registryDir, current.state?.logFile ?? r.paths.logFile);
    const state = readState(r.paths);
    if (owner === 'cli' && state && state.owner !== 'cli') writeState(r.paths, { ...state, owner: 'cli' });
    return { ...statusOf(r), running: true, pid: current.pid, startedHere: false };
  }
  for (const port of [r.port, r.port + 1]) {
    if (!(await isPortFree(REGISTRY_HOST, port))) {
      throw new TeacherlmError('REGISTRY_START_FAILED', `port ${port} on ${REGISTRY_HOST} is already in use, cannot start the local schema registry`, {
        hint: `free it (ss -ltnp 'sport = :${port}'), pick other ports with --port N (uses N and N+1), or set SCHEMA_REGISTRY_URL to a registry you already have`,
      });
    }
  }
  const { java } = findJava(REGISTRY_MIN_JAVA, `Apicurio Registry ${r.version}`);
  await fetchRegistryApp(r.paths.appDir, r.version, r.log);
  if (fresh) rmSync(r.paths.dataDir, { recursive: true, force: true });
  mkdirSync(r.paths.dataDir, { recursive: true });

  const logFd = openSync(r.paths.logFile, 'w');
  let pid: number;
  try {
    const args = [`-Xmx${r.heapMb}m`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', marker(r.paths.registryDir), '-jar', r.paths.runJar];
    const child = spawn(java, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: r.paths.registryDir,
      env: { ...process.env, ...registryEnvironment(r.port, r.paths.database) },
    });
    child.unref();
    pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? -1));
      child.once('error', reject);
    });
  } catch (err) {
    throw new TeacherlmError('REGISTRY_START_FAILED', `could not run ${java}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(logFd);
  }
  writeState(r.paths, {
    pid,
    port: r.port,
    owner,
    version: r.version,
    startedAt: new Date().toISOString(),
    registryDir: r.paths.registryDir,
    logFile: r.paths.logFile,
    dataDir: r.paths.dataDir,
  });
  try {
    await waitUntilReady(r, pid);
  } catch (err) {
    if (isAlive(pid)) await terminate(pid, 5_000);
    clearState(r.paths);
    throw err;
  }
  return { ...statusOf(r), running: true, pid, startedHere: true };
}

async function waitUntilReady(r: Resolved, pid: number, registryDir = r.paths.registryDir, logFile = r.paths.logFile): Promise<void> {
  const deadline = Date.now() + r.startTimeoutMs;
  const url = `http://${REGISTRY_HOST}:${r.port}${CCOMPAT_PATH}/subjects`;
  for (;;) {
    if (!isRegistryProcess(pid, registryDir)) {
      throw new TeacherlmError('REGISTRY_START_FAILED', `the local schema registry exited during startup: ${diagnose(logTail(logFile), r.port)}`, {
        hint: `see ${logFile}`,
      });
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new TeacherlmError('REGISTRY_START_FAILED', `the local schema registry did not answer within ${r.startTimeoutMs / 1000} s`, { hint: `see ${r.paths.logFile}` });
    }
    await sleep(250);
  }
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-16_384);
  } catch {
    return '';
  }
}

/** One line saying why the JVM failed, from the tail of its output. */
export function diagnose(output: string, port: number): string {
  if (/Address already in use|BindException|Port already bound/i.test(output)) return `port ${port} or ${port + 1} is already in use`;
  if (/UnsupportedClassVersionError/.test(output)) return `the Java runtime is too old (Apicurio Registry needs ${REGISTRY_MIN_JAVA}+)`;
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const bad = lines.filter((l) => /\b(ERROR|FATAL)\b|Exception|Error:/.test(l));
  return (bad.at(-1) ?? lines.at(-1) ?? 'no output').slice(0, 300);
}

export interface RegistryStopResult {
  wasRunning: boolean;
  pid?: number;
  how?: 'exited' | 'killed';
  usersCut: number;
}

export async function stopLocalRegistry(options: LocalRegistryOptions = {}): Promise<RegistryStopResult> {
  const r = resolveOptions(options);
  return withFileLock(r.paths.startLock, STOP_GRACE_MS + 30_000, () => stopLocked(r));
}

async function stopLocked(r: Resolved): Promise<RegistryStopResult> {
  const usersCut = liveLeases(r.paths.leasesDir).length;
  const now = running(r.paths);
  const how = now ? await terminate(now.pid, STOP_GRACE_MS) : undefined;
  clearState(r.paths);
  clearLeases(r.paths.leasesDir);
  return { wasRunning: now !== undefined, usersCut, ...(now ? { pid: now.pid, how } : {}) };
}

/** Uses the registry on that port, starting it on demand; it stops when the last on-demand lease is released. */
export async function acquireLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalRegistryLease> {
  const r = resolveOptions(options);
  const { value: registry, release } = await acquireOnDemand({
    lockPath: r.paths.startLock,
    leasesDir: r.paths.leasesDir,
    acquireTimeoutMs: r.startTimeoutMs + 120_000,
    releaseTimeoutMs: STOP_GRACE_MS + 30_000,
    start: () => startLocked(r, 'on-demand', options.fresh ?? false),
    stopIfOnDemand: async () => {
      if (readState(r.paths)?.owner === 'on-demand') await stopLocked(r);
    },
  });
  return { registry, release };
}
