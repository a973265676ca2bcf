/**
 * The Python trainer's sequence and evaluation texts (examples/student/student/sequences.py,
 * standard library only) pinned to the feed's strings, run with the system python3.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const TESTS = join(import.meta.dirname, '..', '..', 'examples', 'student', 'tests', 'test_sequences.py');
const python = process.env.TEACHERLM_PYTHON ?? 'python3';
const found = spawnSync(python, ['--version']).status === 0;

describe.skipIf(!found)('student trainer sequences (python)', () => {
  it('match the reference format and the feed', () => {
    const run = spawnSync(python, [TESTS, '-v'], { encoding: 'utf8' });
    expect(run.stderr).toMatch(/Ran 5 tests/);
    expect(run.status, run.stderr).toBe(0);
  });
});
