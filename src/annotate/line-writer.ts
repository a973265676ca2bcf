/** Appends lines to a file (or stdout) honouring backpressure. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { TeacherlmError } from '../errors.js';

export interface LineWriter {
  write(line: string): Promise<void>;
  close(): Promise<void>;
}

export function stdoutWriter(): LineWriter {
  // A closed pipe (`| head`) ends output quietly, as CLI filters do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  return {
    async write(line) {
      if (!process.stdout.write(line + '\n')) await once(process.stdout, 'drain');
    },
    async close() {},
  };
}

/** Opens `path` for writing (truncating it); errors surface as IO_FAILED naming the file. */
export async function fileWriter(path: string): Promise<LineWriter> {
  const stream: WriteStream = createWriteStream(path, { encoding: 'utf8' });
  let failure: Error | undefined;
  stream.on('error', (err) => (failure = err));
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new TeacherlmError('IO_FAILED', `cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
  const ioFailed = (err: Error): TeacherlmError => new TeacherlmError('IO_FAILED', `cannot write ${path}: ${err.message}`, { cause: err });
  const check = (): void => {
    if (failure) throw ioFailed(failure);
  };
  return {
    async write(line) {
      check();
      // `once` rejects with the stream's own error when it fails while we wait.
      if (!stream.write(line + '\n')) await once(stream, 'drain').catch((err: Error) => Promise.reject(ioFailed(err)));
    },
    async close() {
      check();
      await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(ioFailed(err)) : resolve())));
    },
  };
}
