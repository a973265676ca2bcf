#!/usr/bin/env node
// Runs the compiled CLI when `npm run build` (or `npm ci`'s prepare) produced dist/,
// and the TypeScript sources through tsx otherwise, so a checkout works either way.
// A dist/ older than src/ (code pulled or edited without a rebuild) would run stale
// code silently, so then the sources run, with a note. TEACHERLM_FROM_SOURCE=1 forces
// the sources, =0 forces dist/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli', 'main.js');
const sources = join(root, 'src');

/** Newest modification time of any file under dir (0 when it does not exist). */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

function useCompiled() {
  const forced = process.env.TEACHERLM_FROM_SOURCE;
  if (forced === '1' || !existsSync(compiled)) return false;
  if (forced === '0') return true;
  if (newestMtime(sources) <= statSync(compiled).mtimeMs) return true;
  try {
    import.meta.resolve('tsx/esm/api');
  } catch {
    return true; // no tsx (production install): dist/ is all there is
  }
  process.stderr.write('teacherlm: src/ is newer than dist/, running the sources (npm run build to refresh dist/)\n');
  return false;
}

if (useCompiled()) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
