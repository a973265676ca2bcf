/** Finds a Java runtime able to run a Kafka 4 broker (Java 17 or newer). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TeacherlmError } from '../../errors.js';

const MIN_JAVA_MAJOR = 17;
const INSTALL_HINT = 'install a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME';

/** JAVA_HOME/bin/java when JAVA_HOME is set, else `java` from PATH. */
export function javaExecutable(env: NodeJS.ProcessEnv = process.env): string {
  return env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Parses the major version from `java -version` output ("17.0.15", "1.8.0_392", "21"). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

/** Returns the java executable, or throws TOOL_FAILED with what to install. */
export function requireJava(env: NodeJS.ProcessEnv = process.env): string {
  const java = javaExecutable(env);
  const res = spawnSync(java, ['-version'], { encoding: 'utf8', env, timeout: 30_000 });
  if (res.error) {
    const missing = (res.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new TeacherlmError('TOOL_FAILED', missing ? `Java not found (${java})` : `could not run ${java}: ${res.error.message}`, {
      cause: res.error,
      hint: INSTALL_HINT,
    });
  }
  const major = parseJavaMajor(`${res.stderr}${res.stdout}`);
  if (major === undefined || major < MIN_JAVA_MAJOR) {
    throw new TeacherlmError('TOOL_FAILED', `Kafka 4 needs Java ${MIN_JAVA_MAJOR}+, ${java} is ${major ?? 'of unknown version'}`, {
      hint: INSTALL_HINT,
    });
  }
  return java;
}
