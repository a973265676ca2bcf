/** `teacherlm run` worker processes, each logging to its own file, and the one-shot CLI. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'teacherlm.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  /** Set when the suite itself sent the signal that ended it. */
  signalled: NodeJS.Signals | undefined;
  exit: Exit | undefined;

  constructor(
    readonly logFile: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    const fd = openSync(logFile, 'a');
    this.child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Sends `signal` (once alive) and waits for the process to end. */
  async stop(signal: NodeJS.Signals): Promise<Exit> {
    if (this.alive) {
      this.signalled = signal;
      this.child.kill(signal);
    }
    return this.exited;
  }

  /** An exit the suite did not cause: the worker gave up by itself. */
  get unexpectedExit(): Exit | undefined {
    return this.exit && this.signalled === undefined ? this.exit : undefined;
  }

  /**
   * Resolves once the worker logs its first progress line: its pipeline is running and its
   * SIGTERM handler installed (a SIGTERM before that ends a starting process outright).
   */
  async running(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.alive && Date.now() < deadline && !this.log().includes('"event":"progress"')) await new Promise((r) => setTimeout(r, 200));
  }

  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }
}

/** Every worker still running, SIGKILLed if the suite itself dies, so none outlives it. */
const running = new Set<Worker>();
process.on('exit', () => {
  for (const w of running) w.child.kill('SIGKILL');
});

export class WorkerSet {
  readonly all: Worker[] = [];
  constructor(
    private readonly dir: string,
    private readonly topologyFile: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  start(extraArgs: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Worker {
    const w = new Worker(join(this.dir, `worker-${this.all.length}.log`), ['run', '--topology', this.topologyFile, ...extraArgs], { ...this.env, ...extraEnv });
    this.all.push(w);
    running.add(w);
    void w.exited.then(() => running.delete(w));
    return w;
  }

  get alive(): Worker[] {
    return this.all.filter((w) => w.alive);
  }

  async stopAll(signal: NodeJS.Signals): Promise<void> {
    await Promise.all(this.alive.map((w) => w.stop(signal)));
  }
}
