/**
 * Something a test needs from outside the project (a program, an imported model). Where it
 * is missing the test is skipped and the reason printed; under CI (the `CI` variable set)
 * it fails instead, because CI installs every prerequisite and a skip there would hide a
 * broken install.
 *
 * @example
 * const kcatFound = prerequisite({ name: 'kcat', present: programRuns('kcat', ['-V']),
 *   install: 'apt-get install -y kcat', skips: 'the kcat tests' });
 * describe.skipIf(!kcatFound)('...', () => { ... });
 */
import { spawnSync } from 'node:child_process';

export interface Prerequisite {
  /** What is needed, e.g. `kcat`. */
  name: string;
  present: boolean;
  /** How to get it, e.g. `apt-get install -y kcat`. */
  install: string;
  /** What runs without it, e.g. `the kcat tests`. */
  skips: string;
}

/** True when the CI variable says this is a CI run (any value but empty, `0` or `false`). */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

/** Returns `present`; when missing, warns (or throws under CI) naming what and why. */
export function prerequisite(p: Prerequisite, env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = console.warn): boolean {
  if (p.present) return true;
  const reason = `${p.name} is missing (${p.install})`;
  if (isCI(env)) throw new Error(`${reason}: CI must run ${p.skips}, so this fails instead of skipping`);
  warn(`skipping ${p.skips}: ${reason}`);
  return false;
}

/** True when `command args` runs and exits 0. */
export function programRuns(command: string, args: readonly string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

/** Debian's kcat (librdkafka), the independent Kafka client some tests check the broker with. */
export function kcatPrerequisite(skips: string): boolean {
  return prerequisite({ name: 'kcat', present: programRuns('kcat', ['-V']), install: 'apt-get install -y kcat', skips });
}
