import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** A checkout in miniature: bin/teacherlm.js, a dist/ and a src/ that say which ran. */
function checkout(distAge: number, srcAge: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'teacherlm-bin-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
  mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
  copyFileSync(join(root, 'bin', 'teacherlm.js'), join(dir, 'bin', 'teacherlm.js'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
  writeFileSync(join(dir, 'dist', 'cli', 'main.js'), "console.log('dist');\n");
  writeFileSync(join(dir, 'src', 'cli', 'main.ts'), "const from: string = 'source';\nconsole.log(from);\n");
  const now = Date.now() / 1000;
  utimesSync(join(dir, 'dist', 'cli', 'main.js'), now - distAge, now - distAge);
  utimesSync(join(dir, 'src', 'cli', 'main.ts'), now - srcAge, now - srcAge);
  return dir;
}

function run(dir: string, fromSource?: string) {
  const env = { ...process.env };
  delete env.TEACHERLM_FROM_SOURCE;
  if (fromSource !== undefined) env.TEACHERLM_FROM_SOURCE = fromSource;
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'teacherlm.js')], { env, encoding: 'utf8' });
  return { ran: r.stdout.trim(), stderr: r.stderr };
}

describe('bin/teacherlm.js', () => {
  it('runs dist/ when it is newer than every source', () => {
    expect(run(checkout(10, 100))).toEqual({ ran: 'dist', stderr: '' });
  });

  it('runs the sources, and says so, when a source is newer than dist/', () => {
    const r = run(checkout(100, 10));
    expect(r.ran).toBe('source');
    expect(r.stderr).toContain('src/ is newer than dist/');
  });

  it('obeys TEACHERLM_FROM_SOURCE either way', () => {
    expect(run(checkout(100, 10), '0').ran).toBe('dist');
    expect(run(checkout(10, 100), '1').ran).toBe('source');
  });
});
