/**
 * Loads the Avro schemas from `schemas/` (found by walking up from this file, so it works
 * from `src/` and from `dist/`). Older versions of a schema live in
 * `schemas/history/<name>.<version>.avsc` (e.g. `augmented-sample.1.avsc`): codecs
 * accept records written with them, resolved into the current schema.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { TeacherlmError } from '../errors.js';

export const SCHEMA_NAMES = ['raw-sample', 'augmented-sample', 'dead-letter'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

export interface LoadedSchema {
  current: avro.Type;
  /** Older writer versions, oldest first. */
  history: avro.Type[];
}

/** The project's `schemas/` folder. */
export function defaultSchemasDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'schemas');
    if (existsSync(join(candidate, 'raw-sample.avsc'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new TeacherlmError('IO_FAILED', 'cannot find the schemas/ folder of teacherlm-stream');
    dir = parent;
  }
}

function parseSchemaFile(path: string): avro.Type {
  try {
    return avro.Type.forSchema(JSON.parse(readFileSync(path, 'utf8')) as avro.Schema);
  } catch (err) {
    throw new TeacherlmError('IO_FAILED', `cannot load Avro schema ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Loads one schema and its history from `dir`. */
export function loadSchema(name: SchemaName, dir: string = defaultSchemasDir()): LoadedSchema {
  const current = parseSchemaFile(join(dir, `${name}.avsc`));
  const historyDir = join(dir, 'history');
  const history: avro.Type[] = [];
  if (existsSync(historyDir)) {
    const pattern = new RegExp(`^${name}\\.(\\d+)\\.avsc$`);
    const versions = readdirSync(historyDir)
      .map((file) => ({ file, match: pattern.exec(file) }))
      .filter((f) => f.match)
      .sort((a, b) => Number(a.match?.[1]) - Number(b.match?.[1]));
    for (const { file } of versions) history.push(parseSchemaFile(join(historyDir, file)));
  }
  return { current, history };
}
