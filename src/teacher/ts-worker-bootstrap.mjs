// Starts a TypeScript worker entry when running from source (vitest, tsx): on Node 20,
// `execArgv: ['--import', 'tsx']` does not reach worker threads, so the worker registers
// tsx's loader itself and then imports the entry given as its first argument.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
