// package.json's `engines` names the Node lines the tests run on (20 and 24: `npm test`
// and `npm run test:node24`); this runs under each, so a line that is tested but not
// stated, or stated in a form this check cannot read, fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const engines = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

const parse = (v: string) => v.split('.').map(Number) as [number, number, number];

/** `^M.m.p`: the same major, at least M.m.p. */
function satisfiesCaret(version: string, range: string): boolean {
  const [major, minor, patch] = parse(version);
  const [rMajor, rMinor, rPatch] = parse(range.slice(1));
  return major === rMajor && (minor > rMinor || (minor === rMinor && patch >= rPatch));
}

describe('engines.node', () => {
  const ranges = engines.split('||').map((r) => r.trim());

  it('is a list of caret ranges, one per supported major, 20 and 24', () => {
    for (const range of ranges) expect(range).toMatch(/^\^\d+\.\d+\.\d+$/);
    expect(ranges.map((r) => parse(r.slice(1))[0])).toEqual([20, 24]);
  });

  it(`holds for the Node running the tests (${process.versions.node})`, () => {
    expect(ranges.some((r) => satisfiesCaret(process.versions.node, r)), engines).toBe(true);
  });
});
