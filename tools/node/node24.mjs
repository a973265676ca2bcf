#!/usr/bin/env node
// Runs a Node script under Node 24 LTS, for checking the project on it beside the Node 20
// the machines have: Node's own binary comes from the npm registry (the package
// node-<os>-<arch>) into .cache/node24 on first use, and its bin folder goes first on PATH
// so that child processes (the CLI tests spawn `node`) run on it too.
//
//   node tools/node/node24.mjs SCRIPT [ARGS...]     e.g. npm run test:node24
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSION = '24.22.3';
const root = fileURLToPath(new URL('../../', import.meta.url));
const prefix = join(root, '.cache', 'node24');
const pkg = `node-${process.platform}-${process.arch}`;
const node = join(prefix, 'node_modules', pkg, 'bin', 'node');

function installedVersion() {
  if (!existsSync(node)) return undefined;
  return spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim();
}

if (installedVersion() !== `v${VERSION}`) {
  console.error(`node24: installing ${pkg}@${VERSION} from the npm registry into .cache/node24`);
  // Under `npm run`, npm_execpath is npm's own script: the npm that runs us installs it.
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const args = ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${VERSION}`];
  const res = spawnSync(npm[0], [...npm.slice(1), ...args], { stdio: 'inherit', cwd: root });
  if (res.status !== 0 || installedVersion() !== `v${VERSION}`) {
    console.error(`node24: could not install ${pkg}@${VERSION} (${res.error?.message ?? `exit code ${res.status}`})`);
    process.exit(1);
  }
}

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node tools/node/node24.mjs SCRIPT [ARGS...]');
  process.exit(2);
}
console.error(`node24: running ${script} ${args.join(' ')} on Node v${VERSION} (${node})`);
const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
const res = spawnSync(node, [script, ...args], { stdio: 'inherit', cwd: root, env });
process.exit(res.status ?? 1);
