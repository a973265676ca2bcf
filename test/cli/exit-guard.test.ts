import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const guard = join(import.meta.dirname, '..', '..', 'src', 'cli', 'exit-guard.ts');

/** Runs a script that leaves a socket open to a server of its own, then calls exitAfter. */
function leaveSocketOpen(): Promise<{ code: number | null; stderr: string; ms: number }> {
  const script = join(mkdtempSync(join(tmpdir(), 'exit-guard-')), 'leak.ts');
  writeFileSync(
    script,
    `import { createServer, connect } from 'node:net';
import { exitAfter } from ${JSON.stringify(guard)};
const server = createServer(() => {}).listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  connect({ host: '127.0.0.1', port }, () => exitAfter(3, 300, (line) => console.error(line)));
});
`,
  );
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - started })));
}

describe('exitAfter', () => {
  it('exits with the given code, naming the open socket, when something keeps the process alive', async () => {
    const { code, stderr } = await leaveSocketOpen();
    expect(code).toBe(3);
    expect(stderr).toMatch(/exiting with .*Socket 127\.0\.0\.1:\d+.* still open after 0\.3 s/);
  }, 30_000);
});
