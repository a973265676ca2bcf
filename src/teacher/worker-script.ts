/**
 * How to start a worker whose entry is a sibling module. From dist the entry is the
 * compiled .js file. From source (vitest, tsx) it is a .ts file, started through a small
 * JS bootstrap that registers tsx in the worker: on Node 20 `execArgv: ['--import', 'tsx']`
 * does not make worker threads load TypeScript.
 */
export interface WorkerScript {
  url: URL;
  argv: string[];
}

export function workerScript(name: string, from: string = import.meta.url): WorkerScript {
  if (!from.endsWith('.ts')) return { url: new URL(`./${name}.js`, from), argv: [] };
  return { url: new URL('./ts-worker-bootstrap.mjs', from), argv: [new URL(`./${name}.ts`, from).href] };
}
