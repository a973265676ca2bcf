import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/annotate/progress-bar.js';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, s: { isTTY, columns: 100, write: (t: string) => writes.push(t) } as unknown as NodeJS.WriteStream };
}

describe('createProgress', () => {
  it('draws a bar with done/total and the rate on a TTY, at most every 100 ms, always drawing the final state', () => {
    const { writes, s } = stream(true);
    let clock = 5_000;
    const p = createProgress(10, s, () => clock);
    clock += 1_000;
    p.update(3);
    clock += 99;
    p.update(4); // throttled: within 100 ms of the last draw
    clock += 1;
    p.update(5);
    clock += 10;
    p.update(10); // the final state, drawn although within 100 ms
    p.finish();
    expect(writes).toHaveLength(4);
    expect(writes[0]).toMatch(/^\r\[#{9}\.{21}\] 3\/10 samples {2}3\.0\/s /);
    expect(writes[1]).toMatch(/^\r\[#{15}\.{15}\] 5\/10 samples {2}4\.5\/s /);
    expect(writes[2]).toMatch(/^\r\[#{30}\] 10\/10 samples {2}9\.0\/s /);
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
