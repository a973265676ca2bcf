/**
 * The progress bar of `teacherlm produce` on a terminal: share of the file read (bytes,
 * so no second pass to count rows), samples sent, rows rejected and the send rate.
 * Redrawn in place on stderr at most every {@link PROGRESS_INTERVAL_MS}; nothing is
 * drawn when stderr is not a TTY (logs and pipes stay clean).
 */

export interface ProgressState {
  bytes: number;
  totalBytes: number;
  sent: number;
  invalid: number;
  elapsedMs: number;
}

export const PROGRESS_INTERVAL_MS = 100;

export function renderProgress(state: ProgressState, width = 24): string {
  const share = state.totalBytes > 0 ? Math.min(1, state.bytes / state.totalBytes) : 1;
  const filled = Math.round(share * width);
  const rate = state.elapsedMs > 0 ? Math.round((state.sent * 1000) / state.elapsedMs) : 0;
  const parts = [
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`,
    `${String(Math.floor(share * 100)).padStart(3)}%`,
    `${state.sent.toLocaleString('en-US')} sent`,
  ];
  if (state.invalid > 0) parts.push(`${state.invalid.toLocaleString('en-US')} invalid`);
  parts.push(`${rate.toLocaleString('en-US')}/s`);
  return parts.join('  ');
}

interface Terminal {
  isTTY?: boolean;
  write(text: string): unknown;
}

export class ProgressBar {
  private readonly state: ProgressState;
  private lastDraw = -Infinity;
  private readonly started: number;

  constructor(
    private readonly terminal: Terminal,
    totalBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    this.state = { bytes: 0, totalBytes, sent: 0, invalid: 0, elapsedMs: 0 };
  }

  update(change: Partial<Pick<ProgressState, 'bytes' | 'sent' | 'invalid'>>): void {
    Object.assign(this.state, change);
    const now = this.now();
    if (now - this.lastDraw >= PROGRESS_INTERVAL_MS) this.draw(now);
  }

  /** Draws the final state and ends the line. */
  done(): void {
    if (!this.terminal.isTTY) return;
    this.draw(this.now());
    this.terminal.write('\n');
  }

  private draw(now: number): void {
    if (!this.terminal.isTTY) return;
    this.lastDraw = now;
    this.state.elapsedMs = now - this.started;
    this.terminal.write(`\r\x1b[2K${renderProgress(this.state)}`);
  }
}
