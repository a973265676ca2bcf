/** A one-line progress bar on a TTY stderr; silent otherwise (logs and pipes stay clean). */
export interface Progress {
  update(done: number, extra?: string): void;
  finish(): void;
}

export function createProgress(total: number | undefined, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, finish() {} };
  const started = Date.now();
  let last = 0;
  const draw = (done: number, extra = ''): void => {
    const rate = done / Math.max((Date.now() - started) / 1000, 1e-3);
    const width = 30;
    const bar =
      total && total > 0
        ? `[${'#'.repeat(Math.round((width * Math.min(done, total)) / total)).padEnd(width, '.')}] ${done}/${total}`
        : `${done}`;
    stream.write(`\r${bar} samples  ${rate.toFixed(1)}/s ${extra}`.padEnd(stream.columns ? stream.columns - 1 : 80));
  };
  return {
    update(done, extra) {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      draw(done, extra);
    },
    finish() {
      stream.write('\n');
    },
  };
}
