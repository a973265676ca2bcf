import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/annotate/progress-bar.js';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, s: { isTTY, columns: 100, write: (t: string) => writes.push(t) } as unknown as NodeJS.WriteStream };
}

describe('createProgress', () => {
  it('draws a bar with done/total on a TTY, always drawing the final state', () => {
    const { writes, s } = stream(true);
    const p = createProgress(10, s);
    p.update(3);
    p.update(4); // throttled: within 100 ms of the last draw
    p.update(10);
    p.finish();
    expect(writes[0]).toMatch(/^\r\[#{9}\.{21}\] 3\/10 samples/);
    expect(writes.some((w) => w.includes('[' + '#'.repeat(30) + '] 10/10'))).toBe(true);
    expect(writes.some((w) => w.includes(' 4/10'))).toBe(false);
    expect(writes.at(-1)).toBe('\n');
  });

  it('stays silent when stderr is not a TTY', () => {
    const { writes, s } = stream(false);
    const p = createProgress(10, s);
    p.update(10);
    p.finish();
    expect(writes).toEqual([]);
  });
});
