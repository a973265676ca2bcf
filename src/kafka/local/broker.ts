/**
 * A real Apache Kafka broker on this machine, without Docker: one combined
 * broker+controller (KRaft) on 127.0.0.1, run as a detached `java -cp 'libs/*' kafka.Kafka`.
 *
 * - `startLocalBroker` resolves the jars (Maven, once), formats storage (once), starts
 *   the JVM and returns when a metadata request succeeds.
 * - `stopLocalBroker` sends SIGTERM, waits, then SIGKILL: no java process is left.
 * - `acquireLocalBroker` is the shared, lease-counted form used by `resolveBrokers`:
 *   a broker it started on demand stops when its last user releases it; a broker
 *   started with `teacherlm kafka start` is never stopped by it.
 *
 * Files: see ./paths.ts. The controller listens on port + 1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka } from '../client.js';
import { TeacherlmError } from '../../errors.js';
import { intOption, rejectOption } from '../../options.js';
import { fetchBrokerJars } from './broker-jars.js';
import { newClusterId, renderLog4jProperties, renderServerProperties } from './broker-config.js';
import { requireJava } from './java.js';
import { acquireOnDemand, clearLeases, liveLeases, withFileLock } from './leases.js';
import {
  brokerPaths,
  DEFAULT_KAFKA_PORT,
  DEFAULT_KAFKA_VERSION,
  kafkaCacheDir,
  LOCAL_HOST,
  type BrokerPaths,
} from './paths.js';
import { isPortFree } from './port-check.js';
import { findBrokerProcesses, isBrokerProcess, terminate } from './processes.js';

export { DEFAULT_KAFKA_PORT, DEFAULT_KAFKA_VERSION } from './paths.js';

/** Who started a running broker: the CLI (stays up) or a resolver on demand (lease-counted). */
export type BrokerOwner = 'cli' | 'on-demand';

export interface LocalBrokerOptions {
  /** Client port on 127.0.0.1, default 9092; the controller uses port + 1. */
  port?: number;
  /** Kafka version resolved from Maven Central, default {@link DEFAULT_KAFKA_VERSION}. */
  version?: string;
  /** Default `.cache/kafka` of the project, or TEACHERLM_CACHE_DIR/kafka. */
  cacheDir?: string;
  /** JVM max heap, MiB. Default 512 (2-core machine, shared). */
  heapMb?: number;
  /** How long to wait for the first successful metadata request. Default 120 s. */
  startTimeoutMs?: number;
  /** Wipe the broker's data (topics, offsets) before starting. Default false. */
  fresh?: boolean;
  /** Progress lines (jar download, formatting). Default: silent. */
  log?: (line: string) => void;
}

export interface LocalBrokerStatus {
  running: boolean;
  pid?: number;
  owner?: BrokerOwner;
  version?: string;
  bootstrap: string;
  port: number;
  controllerPort: number;
  logFile: string;
  dataDir: string;
}

export interface StartedLocalBroker extends LocalBrokerStatus {
  running: true;
  pid: number;
  /** False when a broker was already running on that port. */
  startedHere: boolean;
}

export interface LocalBrokerLease {
  broker: StartedLocalBroker;
  /** Drops this lease; stops an on-demand broker when no lease is left. Idempotent. */
  release(): Promise<void>;
}

/** broker.json in the machine-wide runtime folder: which process, and whose files. */
interface BrokerState {
  pid: number;
  port: number;
  controllerPort: number;
  version: string;
  owner: BrokerOwner;
  startedAt: string;
  serverProperties: string;
  logFile: string;
  dataDir: string;
  pidFile: string;
}

interface Resolved {
  port: number;
  controllerPort: number;
  version: string;
  heapMb: number;
  startTimeoutMs: number;
  paths: BrokerPaths;
  log: (line: string) => void;
}

const STOP_GRACE_MS = 30_000;

function resolveOptions(options: LocalBrokerOptions): Resolved {
  // The controller takes port + 1.
  const port = intOption('port', options.port, DEFAULT_KAFKA_PORT, { min: 1024, max: 65534 });
  const heapMb = intOption('heapMb', options.heapMb, 512, { min: 128 });
  const version = options.version ?? process.env.TEACHERLM_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version)) rejectOption('version', 'a version like 4.1.2', version);
  return {
    port,
    controllerPort: port + 1,
    version,
    heapMb,
    startTimeoutMs: options.startTimeoutMs ?? 120_000,
    paths: brokerPaths(port, version, options.cacheDir ?? kafkaCacheDir()),
    log: options.log ?? (() => {}),
  };
}

function readState(paths: BrokerPaths): BrokerState | undefined {
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as BrokerState;
  } catch {
    return undefined;
  }
}

function writeState(paths: BrokerPaths, state: BrokerState): void {
  mkdirSync(paths.runtimeDir, { recursive: true });
  writeFileSync(paths.stateFile, JSON.stringify(state, null, 2));
  writeFileSync(state.pidFile, `${state.pid}\n`);
}

function clearState(paths: BrokerPaths): void {
  const state = readState(paths);
  if (state) rmSync(state.pidFile, { force: true });
  rmSync(paths.stateFile, { force: true });
  rmSync(paths.pidFile, { force: true });
}

/**
 * The broker on this port and its state: from broker.json (whichever checkout started
 * it), else from this checkout's pid file or /proc (state lost, e.g. tmp cleaned).
 */
function running(paths: BrokerPaths): { pid: number; state: BrokerState | undefined } | undefined {
  const state = readState(paths);
  if (state && isBrokerProcess(state.pid, state.serverProperties)) return { pid: state.pid, state };
  const fromFile = existsSync(paths.pidFile) ? Number(readFileSync(paths.pidFile, 'utf8').trim()) : NaN;
  if (fromFile > 0 && isBrokerProcess(fromFile, paths.serverProperties)) return { pid: fromFile, state: undefined };
  const found = findBrokerProcesses(paths.serverProperties)[0];
  return found === undefined ? undefined : { pid: found, state: undefined };
}

function statusOf(r: Resolved): LocalBrokerStatus {
  const now = running(r.paths);
  return {
    running: now !== undefined,
    ...(now ? { pid: now.pid, owner: now.state?.owner ?? 'cli', version: now.state?.version ?? r.version } : {}),
    bootstrap: `${LOCAL_HOST}:${r.port}`,
    port: r.port,
    controllerPort: r.controllerPort,
    logFile: now?.state?.logFile ?? r.paths.logFile,
    dataDir: now?.state?.dataDir ?? r.paths.dataDir,
  };
}

export async function localBrokerStatus(options: LocalBrokerOptions = {}): Promise<LocalBrokerStatus> {
  return statusOf(resolveOptions(options));
}

/** Starts the broker, or returns the one already running on that port (startedHere false). */
export async function startLocalBroker(options: LocalBrokerOptions & { owner?: BrokerOwner } = {}): Promise<StartedLocalBroker> {
  const r = resolveOptions(options);
  return withFileLock(r.paths.startLock, r.startTimeoutMs + 60_000, () => startLocked(r, options.owner ?? 'cli', options.fresh ?? false));
}

async function startLocked(r: Resolved, owner: BrokerOwner, fresh: boolean): Promise<StartedLocalBroker> {
  const current = running(r.paths);
  if (current) {
    await waitUntilReady(r, current.pid, current.state?.serverProperties ?? r.paths.serverProperties);
    // `teacherlm kafka start` on an on-demand broker pins it: it now outlives its leases.
    const state = readState(r.paths);
    if (owner === 'cli' && state && state.owner !== 'cli') writeState(r.paths, { ...state, owner: 'cli' });
    return { ...statusOf(r), running: true, pid: current.pid, startedHere: false };
  }

  for (const port of [r.port, r.controllerPort]) {
    if (!(await isPortFree(LOCAL_HOST, port))) {
      throw new TeacherlmError('BROKER_START_FAILED', `port ${port} on ${LOCAL_HOST} is already in use, cannot start the local Kafka broker`, {
        hint: `free it (ss -ltnp 'sport = :${port}'), pick other ports with --port N (uses N and N+1), or set KAFKA_BROKERS to a broker you already have`,
      });
    }
  }
  const java = requireJava();
  const libsDir = await fetchBrokerJars(r.paths.libsDir, r.version, r.log);

  mkdirSync(r.paths.brokerDir, { recursive: true });
  if (fresh) rmSync(r.paths.dataDir, { recursive: true, force: true });
  writeFileSync(
    r.paths.serverProperties,
    renderServerProperties({ host: LOCAL_HOST, port: r.port, controllerPort: r.controllerPort, dataDir: r.paths.dataDir }),
  );
  writeFileSync(r.paths.log4jProperties, renderLog4jProperties());
  const classpath = join(libsDir, '*');
  const jvm = [`-Xms128m`, `-Xmx${r.heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${r.paths.log4jProperties}`];

  if (!existsSync(join(r.paths.dataDir, 'meta.properties'))) formatStorage(r, java, jvm, classpath);

  // A restart appends (up to a bound), so the log of what came before a crash survives it.
  const append = !fresh && existsSync(r.paths.logFile) && statSync(r.paths.logFile).size < MAX_APPENDED_LOG_BYTES;
  const logFd = openSync(r.paths.logFile, append ? 'a' : 'w');
  writeSync(logFd, `${append ? '\n' : ''}${START_MARKER} ${new Date().toISOString()}\n`);
  let pid: number;
  try {
    const child = spawn(java, [...jvm, '-cp', classpath, 'kafka.Kafka', r.paths.serverProperties], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: r.paths.brokerDir,
    });
    child.unref();
    const spawned = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? -1));
      child.once('error', reject);
    });
    pid = spawned;
  } catch (err) {
    throw new TeacherlmError('BROKER_START_FAILED', `could not run ${java}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(logFd);
  }
  writeState(r.paths, {
    pid,
    port: r.port,
    controllerPort: r.controllerPort,
    version: r.version,
    owner,
    startedAt: new Date().toISOString(),
    serverProperties: r.paths.serverProperties,
    logFile: r.paths.logFile,
    dataDir: r.paths.dataDir,
    pidFile: r.paths.pidFile,
  });
  try {
    await waitUntilReady(r, pid);
  } catch (err) {
    if (isBrokerProcess(pid, r.paths.serverProperties)) await terminate(pid, 5_000);
    clearState(r.paths);
    throw err;
  }
  return { ...statusOf(r), running: true, pid, startedHere: true };
}

function formatStorage(r: Resolved, java: string, jvm: string[], classpath: string): void {
  r.log(`formatting KRaft storage in ${r.paths.dataDir}`);
  const res = spawnSync(
    java,
    [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '--standalone', '--cluster-id', newClusterId(), '--config', r.paths.serverProperties],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (res.status !== 0) {
    throw new TeacherlmError('BROKER_START_FAILED', `formatting Kafka storage failed: ${diagnose(`${res.stdout}\n${res.stderr}`, r)}`, {
      hint: `see ${r.paths.logFile}; 'teacherlm kafka start --fresh' wipes ${r.paths.dataDir}`,
    });
  }
}

/** Polls with a metadata request until it succeeds; fails fast when the JVM exits. */
async function waitUntilReady(r: Resolved, pid: number, serverProperties = r.paths.serverProperties): Promise<void> {
  const deadline = Date.now() + r.startTimeoutMs;
  const kafka = createKafka({
    clientId: 'teacherlm-broker-probe',
    brokers: [`${LOCAL_HOST}:${r.port}`],
    logLevel: 'nothing',
    connectionTimeoutMs: 2_000,
    requestTimeoutMs: 5_000,
    retry: { retries: 0 },
  });
  for (;;) {
    if (!isBrokerProcess(pid, serverProperties)) {
      const tail = logTail(r.paths.logFile);
      const storage = STORAGE_TROUBLE.test(tail) ? `; 'teacherlm kafka start --fresh' wipes ${r.paths.dataDir}` : '';
      throw new TeacherlmError('BROKER_START_FAILED', `the local Kafka broker exited during startup: ${diagnose(tail, r)}`, {
        hint: `see ${r.paths.logFile}${storage}`,
      });
    }
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) return;
    } catch {
      // not up yet
    } finally {
      await admin.disconnect().catch(() => {});
    }
    if (Date.now() > deadline) {
      throw new TeacherlmError('BROKER_START_FAILED', `the local Kafka broker did not answer a metadata request within ${r.startTimeoutMs / 1000} s`, {
        hint: `see ${r.paths.logFile}`,
      });
    }
    await sleep(250);
  }
}

/** Begins each start's part of the broker log. */
const START_MARKER = '----- teacherlm: broker starting at';
/** Past this the log starts afresh instead of growing. */
const MAX_APPENDED_LOG_BYTES = 16 * 1024 * 1024;

/** The last start's part of a broker log, its end only: an earlier start's lines must not be taken for its failure. */
export function lastStartTail(log: string, bytes = 16_384): string {
  return log.slice(Math.max(0, log.lastIndexOf(START_MARKER))).slice(-bytes);
}

function logTail(file: string): string {
  try {
    return lastStartTail(readFileSync(file, 'utf8'));
  } catch {
    return '';
  }
}

/** Startup failures that a fresh data directory cures. */
const STORAGE_TROUBLE = /meta\.properties|Invalid cluster\.id|doesn't match|not formatted|InconsistentClusterIdException/i;

/** One line saying why the JVM failed, from the tail of its output. */
export function diagnose(output: string, r: { port: number; controllerPort: number }): string {
  if (/Address already in use|BindException/.test(output)) return `port ${r.port} or ${r.controllerPort} is already in use`;
  if (/UnsupportedClassVersionError/.test(output)) return 'the Java runtime is too old (Kafka 4 needs 17+)';
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const bad = lines.filter((l) => /\b(ERROR|FATAL)\b|Exception|Error:/.test(l));
  return (bad.at(-1) ?? lines.at(-1) ?? 'no output').slice(0, 300);
}

/** Stops the broker on that port, whoever started it. */
export async function stopLocalBroker(options: LocalBrokerOptions = {}): Promise<StopResult> {
  const r = resolveOptions(options);
  return withFileLock(r.paths.startLock, STOP_GRACE_MS + 30_000, () => stopLocked(r));
}

export interface StopResult {
  wasRunning: boolean;
  pid?: number;
  how?: 'exited' | 'killed';
  /** Processes (e.g. test runs) that held a lease on it when it was stopped. */
  usersCut: number;
}

async function stopLocked(r: Resolved): Promise<StopResult> {
  const usersCut = liveLeases(r.paths.leasesDir).length;
  const pids = new Set(findBrokerProcesses(r.paths.serverProperties));
  const state = readState(r.paths);
  if (state) for (const pid of findBrokerProcesses(state.serverProperties)) pids.add(pid);
  const now = running(r.paths);
  if (now) pids.add(now.pid);
  let how: 'exited' | 'killed' | undefined;
  for (const pid of pids) how = (await terminate(pid, STOP_GRACE_MS)) === 'killed' ? 'killed' : (how ?? 'exited');
  clearState(r.paths);
  clearLeases(r.paths.leasesDir);
  const first = [...pids][0];
  return { wasRunning: pids.size > 0, usersCut, ...(first !== undefined ? { pid: first, how } : {}) };
}

/**
 * Uses the broker on that port, starting it on demand. Each call holds a lease; the
 * broker stops when the last lease of an on-demand broker is released.
 */
export async function acquireLocalBroker(options: LocalBrokerOptions = {}): Promise<LocalBrokerLease> {
  const r = resolveOptions(options);
  const { value: broker, release } = await acquireOnDemand({
    lockPath: r.paths.startLock,
    leasesDir: r.paths.leasesDir,
    acquireTimeoutMs: r.startTimeoutMs + 60_000,
    releaseTimeoutMs: STOP_GRACE_MS + 30_000,
    start: () => startLocked(r, 'on-demand', options.fresh ?? false),
    stopIfOnDemand: async () => {
      if (readState(r.paths)?.owner === 'on-demand') await stopLocked(r);
    },
  });
  return { broker, release };
}
