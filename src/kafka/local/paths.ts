/**
 * Where the local broker keeps its things. Everything lives under the project's
 * `.cache/kafka/` (git-ignored), or under TEACHERLM_CACHE_DIR/kafka when set:
 *
 *   <version>/libs/          jars resolved by Maven (shared by all ports)
 *   broker-<port>/           one broker: server.properties, log4j2.properties,
 *                            broker.log, broker.pid, data/, leases/
 */
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

/** Kafka 4.1.x works with kafkajs 2.2.4 (produce, groups, transactions: see the integration tests). */
export const DEFAULT_KAFKA_VERSION = '4.1.2';
export const DEFAULT_KAFKA_PORT = 9092;
export const LOCAL_HOST = '127.0.0.1';

/** The repository root, from src/kafka/local/ or dist/kafka/local/ alike. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

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
  leasesDir: string;
  startLock: string;
}

export function brokerPaths(port: number, version: string, cacheDir: string): BrokerPaths {
  const brokerDir = join(cacheDir, `broker-${port}`);
  return {
    cacheDir,
    libsDir: join(cacheDir, version, 'libs'),
    brokerDir,
    serverProperties: join(brokerDir, 'server.properties'),
    log4jProperties: join(brokerDir, 'log4j2.properties'),
    logFile: join(brokerDir, 'broker.log'),
    pidFile: join(brokerDir, 'broker.pid'),
    dataDir: join(brokerDir, 'data'),
    leasesDir: join(brokerDir, 'leases'),
    startLock: join(brokerDir, 'start.lock'),
  };
}

export function pomPath(): string {
  return join(PROJECT_ROOT, 'tools', 'kafka', 'pom.xml');
}
