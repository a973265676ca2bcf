/**
 * Resolves Apicurio's Avro serde (the JVM reader's deserializer) from Maven Central with
 * tools/registry/pom.xml, once, into `.cache/registry/serde-<version>/libs`, through a
 * staging folder so an interrupted download never leaves a half-filled folder behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TeacherlmError } from '../../errors.js';
import { PROJECT_ROOT } from '../../project-root.js';
import { registryCacheDir } from './paths.js';

/** The newest serde on Maven Central (3.3.x publishes none); it reads a 3.3.3 registry. */
export const SERDE_VERSION = '3.1.7';

export function serdeLibsDir(cacheDir: string = registryCacheDir()): string {
  return join(cacheDir, `serde-${SERDE_VERSION}`, 'libs');
}

export function fetchSerdeJars(libsDir: string = serdeLibsDir(), log: (line: string) => void = () => {}, mvn = process.env.MAVEN_CMD ?? 'mvn'): string {
  const marker = `apicurio-registry-avro-serde-kafka-${SERDE_VERSION}.jar`;
  if (existsSync(join(libsDir, marker))) return libsDir;
  mkdirSync(dirname(libsDir), { recursive: true });
  const staging = `${libsDir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  log(`resolving io.apicurio:apicurio-registry-avro-serde-kafka:${SERDE_VERSION} from Maven Central into ${libsDir}`);
  const pom = join(PROJECT_ROOT, 'tools', 'registry', 'pom.xml');
  const res = spawnSync(mvn, ['-q', '-B', '-f', pom, `-Dserde.version=${SERDE_VERSION}`, `-DoutputDirectory=${staging}`, 'dependency:copy-dependencies'], { encoding: 'utf8' });
  if (res.error || res.status !== 0 || !existsSync(join(staging, marker))) {
    rmSync(staging, { recursive: true, force: true });
    const why = res.error ? res.error.message : `${res.stdout}${res.stderr}`.split('\n').find((l) => l.includes('[ERROR]')) ?? `exit ${res.status}`;
    throw new TeacherlmError('TOOL_FAILED', `mvn could not resolve the Apicurio serde: ${why}`, { hint: 'install Maven (Debian: apt-get install -y maven) with access to Maven Central, then retry' });
  }
  try {
    renameSync(staging, libsDir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(libsDir, marker))) throw new TeacherlmError('IO_FAILED', `could not move jars into ${libsDir}`, { cause: err });
  }
  return libsDir;
}
