/**
 * Finds a Java runtime of at least a given major version: JAVA_HOME, then `java` on
 * PATH, then the JDKs under /usr/lib/jvm (newest first). The registry needs Java 21+
 * while the machine's default `java` may be 17, so the first `java` found is not enough.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TeacherlmError } from '../../errors.js';
import { parseJavaMajor } from '../../kafka/local/java.js';

export interface FoundJava {
  java: string;
  major: number;
}

function majorOf(java: string, env: NodeJS.ProcessEnv): number | undefined {
  const res = spawnSync(java, ['-version'], { encoding: 'utf8', env, timeout: 30_000 });
  if (res.error) return undefined;
  return parseJavaMajor(`${res.stderr}${res.stdout}`);
}

/** The java executables worth trying, in order of preference. */
export function javaCandidates(env: NodeJS.ProcessEnv = process.env, jvmRoot = '/usr/lib/jvm'): string[] {
  const out: string[] = [];
  if (env.JAVA_HOME) out.push(join(env.JAVA_HOME, 'bin', 'java'));
  out.push('java');
  if (existsSync(jvmRoot)) {
    const jdks = readdirSync(jvmRoot)
      .map((name) => join(jvmRoot, name, 'bin', 'java'))
      .filter((java) => existsSync(java))
      .sort()
      .reverse();
    out.push(...jdks);
  }
  return out;
}

/** The first Java of at least `minMajor`, or TOOL_FAILED naming what to install. */
export function findJava(minMajor: number, purpose: string, env: NodeJS.ProcessEnv = process.env, jvmRoot?: string): FoundJava {
  const seen: string[] = [];
  for (const java of javaCandidates(env, jvmRoot)) {
    const major = majorOf(java, env);
    if (major !== undefined) seen.push(`${java} is ${major}`);
    if (major !== undefined && major >= minMajor) return { java, major };
  }
  throw new TeacherlmError('TOOL_FAILED', `${purpose} needs Java ${minMajor}+; ${seen.length ? seen.join(', ') : 'no Java found'}`, {
    hint: `install a Java ${minMajor}+ JDK (e.g. Temurin ${minMajor}, or Debian: apt-get install -y openjdk-${minMajor}-jre-headless) or set JAVA_HOME to one`,
  });
}
