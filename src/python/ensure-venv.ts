/**
 * A Python venv of the project's cache, `.cache/py/<name>`, with the pinned packages of
 * one requirements file installed once per version of that file (a stamp holds its
 * sha256). The model importer's converter venv, the outside readers' and the tools' are all
 * made here.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TeacherlmError } from '../errors.js';
import { PROJECT_ROOT } from '../project-root.js';

export interface VenvOptions {
  /** Default: the project root. */
  root?: string;
  /** Interpreter that creates the venv (default: $TEACHERLM_PYTHON or python3). */
  systemPython?: string;
  log?: (line: string) => void;
  /** Runs a command to its end, rejecting with TOOL_FAILED otherwise. Default: spawns it, output kept for the error. */
  run?: (command: string, args: string[]) => Promise<unknown>;
}

function spawnQuietly(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(new TeacherlmError('TOOL_FAILED', `could not run ${command}: ${err.message}`, { cause: err, hint: 'install Python 3.10+ with venv, or set TEACHERLM_PYTHON' })),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new TeacherlmError('TOOL_FAILED', `${command} ${args.slice(0, 3).join(' ')} exited with ${code}: ${output.trim().split('\n').at(-1) ?? ''}`));
    });
  });
}

/** Returns the venv's python, creating the venv and installing `requirements` when needed. */
export async function ensureVenv(name: string, requirements: string, options: VenvOptions = {}): Promise<string> {
  const root = options.root ?? PROJECT_ROOT;
  const run = options.run ?? spawnQuietly;
  const dir = join(root, '.cache', 'py', name);
  const python = join(dir, 'bin', 'python');
  const stamp = join(dir, '.teacherlm-requirements.sha256');
  const want = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (!existsSync(python)) {
    const system = options.systemPython ?? process.env.TEACHERLM_PYTHON ?? 'python3';
    options.log?.(`creating Python venv .cache/py/${name} with ${system}`);
    await run(system, ['-m', 'venv', dir]);
  }
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== want) {
    options.log?.(`installing ${requirements} into .cache/py/${name}`);
    await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
    writeFileSync(stamp, `${want}\n`);
  }
  return python;
}
