/**
 * Durable renames: a file is fsync'd before it takes its final name, and the folder is
 * fsync'd after, so after a crash (or kill -9, or power loss) the name either points at
 * the whole file or does not exist.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** fsync of a folder: makes the renames and unlinks inside it durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Renames `from` (already fsync'd) to `to` and makes the rename durable. */
export function durableRename(from: string, to: string): void {
  renameSync(from, to);
  fsyncDir(dirname(to));
}

/** Writes `text` to `<path>.tmp`, fsyncs it and renames it over `path`. */
export function writeFileDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  durableRename(tmp, path);
}
