/**
 * Resolves the broker's jars from Maven Central with tools/kafka/pom.xml, once per
 * Kafka version, into `.cache/kafka/<version>/libs`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TeacherlmError } from '../../errors.js';
import { pomPath } from './paths.js';

const MAVEN_HINT = 'install Maven (Debian: apt-get install -y maven) with access to Maven Central, then retry';

/** True when the libs folder holds the broker jar of this version. */
export function jarsPresent(libsDir: string, version: string): boolean {
  return existsSync(join(libsDir, `kafka_2.13-${version}.jar`));
}

/**
 * Runs `mvn dependency:copy-dependencies` into a temporary folder and renames it into
 * place, so an interrupted download never leaves a half-filled libs folder behind.
 * Returns the libs folder.
 */
export async function fetchBrokerJars(
  libsDir: string,
  version: string,
  log: (line: string) => void = () => {},
  mvn: string = process.env.MAVEN_CMD ?? 'mvn',
): Promise<string> {
  if (jarsPresent(libsDir, version)) return libsDir;
  mkdirSync(dirname(libsDir), { recursive: true });
  const staging = `${libsDir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  log(`resolving org.apache.kafka:kafka_2.13:${version} from Maven Central into ${libsDir}`);
  const args = ['-q', '-B', '-f', pomPath(), `-Dkafka.version=${version}`, `-DoutputDirectory=${staging}`, 'dependency:copy-dependencies'];
  const output = await run(mvn, args).finally(() => {
    if (!jarsPresent(staging, version)) rmSync(staging, { recursive: true, force: true });
  });
  if (!jarsPresent(staging, version)) {
    rmSync(staging, { recursive: true, force: true });
    throw new TeacherlmError('TOOL_FAILED', `mvn did not produce kafka_2.13-${version}.jar: ${lastLine(output)}`, { hint: MAVEN_HINT });
  }
  try {
    renameSync(staging, libsDir);
  } catch (err) {
    // Another process finished first: keep its folder.
    rmSync(staging, { recursive: true, force: true });
    if (!jarsPresent(libsDir, version)) throw new TeacherlmError('IO_FAILED', `could not move jars into ${libsDir}`, { cause: err });
  }
  log(`${readdirSync(libsDir).length} jars in ${libsDir}`);
  return libsDir;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      const missing = err.code === 'ENOENT';
      reject(new TeacherlmError('TOOL_FAILED', missing ? `Maven not found (${cmd})` : `could not run ${cmd}: ${err.message}`, { cause: err, hint: MAVEN_HINT }));
    });
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new TeacherlmError('TOOL_FAILED', `mvn exited with ${code}: ${lastLine(output)}`, { hint: MAVEN_HINT }));
    });
  });
}

function lastLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => l.startsWith('[ERROR]')) ?? lines.at(-1) ?? 'no output';
}
