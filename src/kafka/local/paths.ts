/**
 * Where the local broker keeps its things. Everything lives under the project's
 * `.cache/kafka/` (git-ignored), or under TEACHERLM_CACHE_DIR/kafka when set:
 *
 *   <version>/libs/          jars resolved by Maven (shared by all ports)
 *   broker-<port>/           one broker: server.properties, log4j2.properties,
 *                            broker.log, broker.pid, data/
 *
 * A port is a machine-wide resource, so what coordinates its users lives in a
 * machine-wide folder, `<tmpdir>/teacherlm-kafka-<uid>/port-<port>/`: the start lock,
 * the leases and broker.json (pid, owner, which checkout's files). Two checkouts (a CI
 * clone beside a working copy) thereby share one broker on 9092 instead of colliding.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../project-root.js';

/** Kafka 4.1.x works with kafkajs 2.2.4 (produce, groups, transactions: see the integration tests). */
export const DEFAULT_KAFKA_VERSION = '4.1.2';
export const DEFAULT_KAFKA_PORT = 9092;
export const LOCAL_HOST = '127.0.0.1';

export function kafkaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.TEACHERLM_CACHE_DIR ? resolve(env.TEACHERLM_CACHE_DIR) : join(PROJECT_ROOT, '.cache');
  return join(base, 'kafka');
}

export interface BrokerPaths {
  cacheDir: string;
  libsDir: string;
  brokerDir: string;
  serverProperties: string;
  log4jProperties: string;
  logFile: string;
  pidFile: string;
  dataDir: string;
  /** Machine-wide, per port. */
  runtimeDir: string;
  stateFile: string;
  leasesDir: string;
  startLock: string;
}

export function runtimeDir(port: number, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.TEACHERLM_KAFKA_RUNTIME_DIR ?? join(tmpdir(), `teacherlm-kafka-${process.getuid?.() ?? 'user'}`);
  return join(base, `port-${port}`);
}

export function brokerPaths(port: number, version: string, cacheDir: string): BrokerPaths {
  const brokerDir = join(cacheDir, `broker-${port}`);
  const runtime = runtimeDir(port);
  return {
    cacheDir,
    libsDir: join(cacheDir, version, 'libs'),
    brokerDir,
    serverProperties: join(brokerDir, 'server.properties'),
    log4jProperties: join(brokerDir, 'log4j2.properties'),
    logFile: join(brokerDir, 'broker.log'),
    pidFile: join(brokerDir, 'broker.pid'),
    dataDir: join(brokerDir, 'data'),
    runtimeDir: runtime,
    stateFile: join(runtime, 'broker.json'),
    leasesDir: join(runtime, 'leases'),
    startLock: join(runtime, 'start.lock'),
  };
}

export function pomPath(): string {
  return join(PROJECT_ROOT, 'tools', 'kafka', 'pom.xml');
}
