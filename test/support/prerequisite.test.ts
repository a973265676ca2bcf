import { describe, expect, it } from 'vitest';
import { isCI, prerequisite, programRuns } from './prerequisite.js';

const kcat = { name: 'kcat', install: 'apt-get install -y kcat', skips: 'the kcat tests' };

describe('prerequisite', () => {
  it('passes a present prerequisite silently, in CI or not', () => {
    const lines: string[] = [];
    expect(prerequisite({ ...kcat, present: true }, {}, (l) => lines.push(l))).toBe(true);
    expect(prerequisite({ ...kcat, present: true }, { CI: 'true' }, (l) => lines.push(l))).toBe(true);
    expect(lines).toEqual([]);
  });

  it('outside CI, skips a missing one and prints what is skipped and how to get it', () => {
    const lines: string[] = [];
    expect(prerequisite({ ...kcat, present: false }, {}, (l) => lines.push(l))).toBe(false);
    expect(lines).toEqual(['skipping the kcat tests: kcat is missing (apt-get install -y kcat)']);
  });

  it('in CI, fails on a missing one', () => {
    expect(() => prerequisite({ ...kcat, present: false }, { CI: 'true' }, () => {})).toThrow(
      'kcat is missing (apt-get install -y kcat): CI must run the kcat tests, so this fails instead of skipping',
    );
  });

  it('reads CI as CI providers set it', () => {
    for (const value of ['true', '1', 'yes', 'TRUE']) expect(isCI({ CI: value }), value).toBe(true);
    for (const value of [undefined, '', '0', 'false', 'False']) expect(isCI({ CI: value }), String(value)).toBe(false);
  });
});

describe('programRuns', () => {
  it('is true for a program that exits 0, false for a failing or missing one', () => {
    expect(programRuns(process.execPath, ['-e', ''])).toBe(true);
    expect(programRuns(process.execPath, ['-e', 'process.exit(2)'])).toBe(false);
    expect(programRuns('no-such-program-here', ['-V'])).toBe(false);
  });
});
