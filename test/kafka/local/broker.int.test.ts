/**
 * The `teacherlm kafka` CLI against real processes, on ports of its own so the run's
 * shared broker is never touched: startup failures give one line saying what to do,
 * and a started broker is visible to an independent client and leaves nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerPaths, DEFAULT_KAFKA_VERSION, kafkaCacheDir, runtimeDir } from '../../../src/kafka/local/paths.js';
import { PROJECT_ROOT } from '../../../src/project-root.js';
import { isPortFree } from '../../../src/kafka/local/port-check.js';
import { findBrokerProcesses } from '../../../src/kafka/local/processes.js';
import { acquireLocalBroker, localBrokerStatus, startLocalBroker } from '../../../src/kafka/local/broker.js';
import { kcatPrerequisite } from '../../support/prerequisite.js';

const BIN = join(PROJECT_ROOT, 'bin', 'teacherlm.js');
const kcatFound = kcatPrerequisite('the kcat check of a started broker');

/** Folders of the brokers these tests made, removed at the end. */
const usedPorts: number[] = [];
afterAll(() => {
  for (const port of usedPorts) {
    rmSync(brokerPaths(port, DEFAULT_KAFKA_VERSION, kafkaCacheDir()).brokerDir, { recursive: true, force: true });
    rmSync(runtimeDir(port), { recursive: true, force: true });
  }
});

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const res = spawnSync(process.execPath, [BIN, 'kafka', ...args], {
    encoding: 'utf8',
    env: { ...env, TEACHERLM_FROM_SOURCE: '1' },
    timeout: 170_000,
  });
  return { code: res.status, stdout: res.stdout.trim(), stderr: res.stderr.trim() };
}

/** A port P with P and P+1 free (the broker and its controller). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (port < 65534 && (await isPortFree('127.0.0.1', port + 1))) {
      usedPorts.push(port);
      return port;
    }
  }
}

function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('teacherlm kafka start failures', () => {
  let blocker: Server | undefined;
  afterAll(() => blocker?.close());

  it('says the port is taken, and what to do, in one line', async () => {
    const port = await freePortPair();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', resolve));
    const res = cli(['start', '--port', String(port)]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expectOneLineError(res.stderr, new RegExp(`^teacherlm: port ${port} on 127\\.0\\.0\\.1 is already in use, .*--port N.*KAFKA_BROKERS.* \\[BROKER_START_FAILED\\]$`));
  });

  it('says Java is missing, and what to install, in one line', async () => {
    const port = await freePortPair();
    // A PATH holding node alone (node and java may share /usr/bin).
    const bin = mkdtempSync(join(tmpdir(), 'node-only-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const { JAVA_HOME: _ignored, ...env } = process.env;
    const res = cli(['start', '--port', String(port)], { ...env, PATH: bin });
    if (res.code === 0) cli(['stop', '--port', String(port)]);
    expect(res.code).toBe(1);
    expectOneLineError(res.stderr, /^teacherlm: Java not found \(java\) \(install a Java 17\+ runtime.*\) \[TOOL_FAILED\]$/);
  });
});

describe('teacherlm kafka start | status | stop', () => {
  it('starts a broker kcat can see, stops it leaving no java process, and reports a broker that dies at startup', async () => {
    const port = await freePortPair();
    const paths = brokerPaths(port, DEFAULT_KAFKA_VERSION, kafkaCacheDir());
    try {
      const start = cli(['start', '--port', String(port), '--fresh']);
      expect(start.code, start.stderr).toBe(0);
      expect(start.stdout).toBe(`127.0.0.1:${port}`);

      const status = cli(['status', '--port', String(port)]);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`^running: Kafka \\S+ at 127\\.0\\.0\\.1:${port} \\(pid \\d+, started by cli\\)`));

      if (kcatFound) {
        const kcat = spawnSync('kcat', ['-b', `127.0.0.1:${port}`, '-L', '-m', '30'], { encoding: 'utf8' });
        expect(kcat.stdout, kcat.stderr).toContain(`broker 1 at 127.0.0.1:${port}`);
      }

      const stop = cli(['stop', '--port', String(port)]);
      expect(stop.stdout).toMatch(new RegExp(`^stopped the Kafka broker on 127\\.0\\.0\\.1:${port} \\(pid \\d+, (exited|killed)\\)$`));
      expect(findBrokerProcesses(paths.serverProperties)).toEqual([]);
      expect(cli(['status', '--port', String(port)])).toMatchObject({ code: 3, stdout: `not running (would listen on 127.0.0.1:${port})` });

      // Storage from "another node": the JVM exits during startup; the log tail says why.
      const meta = join(paths.dataDir, 'meta.properties');
      writeFileSync(meta, readFileSync(meta, 'utf8').replace(/^node\.id=1$/m, 'node.id=7'));
      const broken = cli(['start', '--port', String(port)]);
      expect(broken.code).toBe(1);
      expectOneLineError(broken.stderr, /^teacherlm: the local Kafka broker exited during startup: .*Stored node id 7 doesn't match previous node id 1.*--fresh.* \[BROKER_START_FAILED\]$/);
      expect(findBrokerProcesses(paths.serverProperties)).toEqual([]);
    } finally {
      cli(['stop', '--port', String(port)]);
    }
  });
});

describe('teacherlm kafka fetch', () => {
  it('resolves the broker jars from Maven Central into the cache once, and prints where', () => {
    const cache = mkdtempSync(join(tmpdir(), 'kafka-fetch-'));
    try {
      const env = { ...process.env, TEACHERLM_CACHE_DIR: cache };
      const libs = join(cache, 'kafka', DEFAULT_KAFKA_VERSION, 'libs');
      const first = cli(['fetch'], env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toBe(libs);
      expect(first.stderr).toContain(`resolving org.apache.kafka:kafka_2.13:${DEFAULT_KAFKA_VERSION} from Maven Central`);
      const jars = readdirSync(libs);
      expect(jars).toContain(`kafka_2.13-${DEFAULT_KAFKA_VERSION}.jar`);
      expect(jars).toContain(`kafka-clients-${DEFAULT_KAFKA_VERSION}.jar`);
      expect(readdirSync(join(cache, 'kafka', DEFAULT_KAFKA_VERSION))).toEqual(['libs']);
      // Once: a second fetch finds the jars and never runs Maven (which would fail here).
      expect(cli(['fetch'], { ...env, MAVEN_CMD: 'no-such-mvn' })).toEqual({ code: 0, stdout: libs, stderr: '' });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('says Maven is missing, and what to install, in one error line, leaving no libs folder', () => {
    const cache = mkdtempSync(join(tmpdir(), 'kafka-fetch-'));
    try {
      const res = cli(['fetch'], { ...process.env, TEACHERLM_CACHE_DIR: cache, MAVEN_CMD: 'no-such-mvn' });
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      // The progress line that it is resolving, then the error alone (no stack).
      const [progress, ...rest] = res.stderr.split('\n');
      expect(progress).toMatch(/^teacherlm: resolving org\.apache\.kafka:kafka_2\.13:/);
      expectOneLineError(rest.join('\n'), /^teacherlm: Maven not found \(no-such-mvn\) \(install Maven .*Maven Central.*\) \[TOOL_FAILED\]$/);
      expect(existsSync(join(cache, 'kafka', DEFAULT_KAFKA_VERSION, 'libs'))).toBe(false);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe('acquireLocalBroker (what resolveBrokers and the test setup use)', () => {
  it('stops an on-demand broker when its last user releases it, and never one pinned by the CLI', async () => {
    const port = await freePortPair();
    const paths = brokerPaths(port, DEFAULT_KAFKA_VERSION, kafkaCacheDir());
    try {
      const first = await acquireLocalBroker({ port, fresh: true });
      const second = await acquireLocalBroker({ port });
      expect(first.broker).toMatchObject({ startedHere: true, owner: 'on-demand', bootstrap: `127.0.0.1:${port}` });
      expect(second.broker).toMatchObject({ startedHere: false, pid: first.broker.pid });

      await first.release();
      expect(await localBrokerStatus({ port })).toMatchObject({ running: true, pid: first.broker.pid });
      await second.release();
      expect(await localBrokerStatus({ port })).toMatchObject({ running: false });
      expect(findBrokerProcesses(paths.serverProperties)).toEqual([]);

      // `teacherlm kafka start` pins the broker: a lease holder leaving does not stop it.
      const pinned = await startLocalBroker({ port });
      const user = await acquireLocalBroker({ port });
      expect(user.broker).toMatchObject({ startedHere: false, owner: 'cli', pid: pinned.pid });
      await user.release();
      expect(await localBrokerStatus({ port })).toMatchObject({ running: true, pid: pinned.pid });
    } finally {
      cli(['stop', '--port', String(port)]);
    }
    expect(findBrokerProcesses(paths.serverProperties)).toEqual([]);
  });
});
