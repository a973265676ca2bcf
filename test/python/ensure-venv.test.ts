import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureVenv } from '../../src/python/ensure-venv.js';

describe('ensureVenv', () => {
  let root: string;
  let requirements: string;
  const calls: string[] = [];
  /** Records each command and makes the interpreter the real `python -m venv` would make. */
  const run = async (command: string, args: string[]) => {
    calls.push([command, ...args.slice(0, 3)].join(' '));
    if (args[1] === 'venv') {
      const python = join(args[2]!, 'bin', 'python');
      mkdirSync(dirname(python), { recursive: true });
      writeFileSync(python, '');
    }
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ensure-venv-'));
    requirements = join(root, 'requirements.txt');
    writeFileSync(requirements, 'numpy==2.3.5\n');
    calls.length = 0;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates the venv and installs once, then again only when the requirements change', async () => {
    const python = await ensureVenv('tools', requirements, { root, systemPython: 'python3.11', run });
    expect(python).toBe(join(root, '.cache', 'py', 'tools', 'bin', 'python'));
    expect(calls).toEqual([`python3.11 -m venv ${join(root, '.cache', 'py', 'tools')}`, `${python} -m pip install`]);
    await ensureVenv('tools', requirements, { root, run });
    expect(calls).toHaveLength(2);
    writeFileSync(requirements, 'numpy==2.3.6\n');
    await ensureVenv('tools', requirements, { root, run });
    expect(calls.slice(2)).toEqual([`${python} -m pip install`]);
  });

  it('writes no stamp when the install fails, so the next call installs again', async () => {
    const failing = async (command: string, args: string[]) => {
      await run(command, args);
      if (args[1] === 'pip') throw new Error('pip failed');
    };
    await expect(ensureVenv('tools', requirements, { root, run: failing })).rejects.toThrow('pip failed');
    await ensureVenv('tools', requirements, { root, run });
    expect(calls.filter((c) => c.endsWith('-m pip install'))).toHaveLength(2);
  });
});
