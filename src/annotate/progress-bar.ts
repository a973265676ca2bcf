/** A one-line progress bar on a TTY stderr; silent otherwise (logs and pipes stay clean). */
export interface Progress {
  update(done: number, extra?: string): void;
  finish(): void;
}

/** `now` is the clock in ms (injected so the throttle and the rate can be tested). */
export function createProgress(
  total: number | undefined,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): Progress {
  if (!stream.isTTY) return { update() {}, finish() {} };
  const started = now();
  let last = -Infinity;
  const draw = (done: number, at: number, extra = ''): void => {
    const rate = done / Math.max((at - started) / 1000, 1e-3);
    const width = 30;
    const bar =
      total && total > 0
        ? `[${'#'.repeat(Math.round((width * Math.min(done, total)) / total)).padEnd(width, '.')}] ${done}/${total}`
        : `${done}`;
    stream.write(`\r${bar} samples  ${rate.toFixed(1)}/s ${extra}`.padEnd(stream.columns ? stream.columns - 1 : 80));
  };
  return {
    update(done, extra) {
      const at = now();
      if (at - last < 100 && done !== total) return;
      last = at;
      draw(done, at, extra);
    },
    finish() {
      stream.write('\n');
    },
  };
}
