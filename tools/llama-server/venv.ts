/**
 * The llama.cpp server the OpenAI-backend tests run against: `llama-cpp-python[server]`
 * from PyPI, built from its source distribution with this machine's cmake and g++ (about
 * 10 minutes on two cores), in a venv under .cache/py/llama-server.
 *
 * The built wheel is kept in .cache/wheels/llama-cpp-python-<key>/, keyed by version,
 * CMake arguments and the CPU's feature flags (the build is `GGML_NATIVE`: a wheel built
 * for one CPU may not run on another), so a second venv, or a venv rebuilt after its
 * requirements changed, installs in seconds.
 *
 *   npx tsx tools/llama-server/venv.ts     # build or check it; prints the venv's python
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnProcess, type ProcessRunner } from '../../src/teacher/model-import.js';

export const LLAMA_CPP_PYTHON_VERSION = '0.3.36';
/** No multimodal library (the text server never loads it): a shorter build. */
export const LLAMA_CMAKE_ARGS = '-DLLAVA_BUILD=OFF -DGGML_NATIVE=ON';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface LlamaServerVenvOptions {
  root?: string;
  /** Interpreter that creates the venv (default: $TEACHERLM_PYTHON or python3). */
  systemPython?: string;
  log?: (line: string) => void;
  run?: ProcessRunner;
}

export function llamaServerPython(root = ROOT): string {
  return join(root, '.cache', 'py', 'llama-server', 'bin', 'python');
}

/** What the wheel depends on: the version, the CMake arguments and the CPU features. */
export function wheelKey(cpuinfo: string): string {
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/).sort().join(' ') ?? '';
  return createHash('sha256').update(`${LLAMA_CPP_PYTHON_VERSION}\n${LLAMA_CMAKE_ARGS}\n${flags}`).digest('hex').slice(0, 12);
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/**
 * Creates .cache/py/llama-server if missing and installs requirements.txt into it, once
 * per version of that file, building llama-cpp-python's wheel first unless it is cached.
 * Returns the venv's python. Callers are serial (integration tests run one file at a time).
 */
export async function ensureLlamaServerVenv(options: LlamaServerVenvOptions = {}): Promise<string> {
  const root = options.root ?? ROOT;
  const run = options.run ?? spawnProcess;
  const log = options.log ?? (() => {});
  const venv = join(root, '.cache', 'py', 'llama-server');
  const python = llamaServerPython(root);
  const requirements = join(root, 'tools', 'llama-server', 'requirements.txt');
  const stamp = join(venv, '.teacherlm-requirements.sha256');
  const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) return python;
  if (!existsSync(python)) {
    const system = options.systemPython ?? process.env.TEACHERLM_PYTHON ?? 'python3';
    log(`creating Python venv .cache/py/llama-server with ${system}`);
    await run(system, ['-m', 'venv', venv], { cwd: root });
  }
  const wheels = join(root, '.cache', 'wheels', `llama-cpp-python-${wheelKey(readCpuinfo())}`);
  const hasWheel = () =>
    existsSync(wheels) && readdirSync(wheels).some((f) => f.startsWith(`llama_cpp_python-${LLAMA_CPP_PYTHON_VERSION}-`) && f.endsWith('.whl'));
  if (!hasWheel()) {
    log(`building llama-cpp-python ${LLAMA_CPP_PYTHON_VERSION} from source (cmake, g++; about 10 minutes on two cores)`);
    mkdirSync(wheels, { recursive: true });
    await withEnv({ CMAKE_ARGS: LLAMA_CMAKE_ARGS, CMAKE_BUILD_PARALLEL_LEVEL: process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? '2' }, () =>
      run(
        python,
        ['-m', 'pip', 'wheel', '--quiet', '--disable-pip-version-check', '--no-deps', '--no-binary', 'llama-cpp-python',
          '-w', wheels, `llama-cpp-python==${LLAMA_CPP_PYTHON_VERSION}`],
        { cwd: root },
      ),
    );
  }
  log('installing the llama.cpp server packages');
  await run(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--only-binary', 'llama-cpp-python', '--find-links', wheels, '-r', requirements],
    { cwd: root },
  );
  writeFileSync(stamp, `${wanted}\n`);
  return python;
}

/** The process runner inherits process.env: set the build's variables around one call. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const python = await ensureLlamaServerVenv({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stderr.write(`llama.cpp server venv ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${python}\n`);
}
