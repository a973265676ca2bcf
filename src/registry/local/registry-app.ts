/**
 * Fetches Apicurio Registry once: Maven resolves `io.apicurio:apicurio-registry-app:<v>:tar.gz:all`
 * (158 MB, a Quarkus fast-jar) from Maven Central, and it is untarred into
 * `.cache/registry/<v>/app/` through a staging folder, so an interrupted fetch never
 * leaves a half-filled app behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TeacherlmError } from '../../errors.js';

const MAVEN_HINT = 'install Maven (Debian: apt-get install -y maven) with access to Maven Central, then retry';

export function appPresent(appDir: string): boolean {
  return existsSync(join(appDir, 'quarkus-run.jar'));
}

/** Returns the app folder, fetching it first when missing. */
export async function fetchRegistryApp(
  appDir: string,
  version: string,
  log: (line: string) => void = () => {},
  mvn: string = process.env.MAVEN_CMD ?? 'mvn',
): Promise<string> {
  if (appPresent(appDir)) return appDir;
  mkdirSync(dirname(appDir), { recursive: true });
  const staging = `${appDir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const artifact = `io.apicurio:apicurio-registry-app:${version}:tar.gz:all`;
    log(`resolving ${artifact} from Maven Central (158 MB, once) into ${appDir}`);
    await run(mvn, ['-q', '-B', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${staging}`], MAVEN_HINT);
    const tarball = readdirSync(staging).find((f) => f.endsWith('.tar.gz'));
    if (!tarball) throw new TeacherlmError('TOOL_FAILED', `mvn did not produce the ${artifact} tarball`, { hint: MAVEN_HINT });
    await run('tar', ['xzf', join(staging, tarball), '-C', staging], 'install tar');
    rmSync(join(staging, tarball), { force: true });
    if (!appPresent(staging)) throw new TeacherlmError('TOOL_FAILED', `${artifact} has no quarkus-run.jar`);
    try {
      renameSync(staging, appDir);
    } catch (err) {
      // Another process finished first: keep its folder.
      if (!appPresent(appDir)) throw new TeacherlmError('IO_FAILED', `could not move the registry into ${appDir}`, { cause: err });
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return appDir;
}

function run(cmd: string, args: string[], hint: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      const what = err.code === 'ENOENT' ? `${cmd} not found` : `could not run ${cmd}: ${err.message}`;
      reject(new TeacherlmError('TOOL_FAILED', what, { cause: err, hint }));
    });
    child.on('close', (code) => {
      if (code === 0) return resolve();
      // eslint-disable-next-line no-control-regex
      const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
      const last = lines.find((l) => l.startsWith('[ERROR]')) ?? lines.at(-1) ?? 'no output';
      reject(new TeacherlmError('TOOL_FAILED', `${cmd} exited with ${code}: ${last}`, { hint }));
    });
  });
}
