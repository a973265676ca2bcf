/**
 * Bounds the exit. Once a command has finished and closed what it opened, nothing should
 * keep the process alive; if something still does (kafkajs can reconnect a consumer
 * whose crash-restart was under way when it was disconnected, e.g. after a broker
 * restart), the process names what is open and exits with the command's code after
 * `graceMs`, instead of hanging on a socket.
 */

interface HandleLike {
  constructor?: { name?: string };
  remoteAddress?: string;
  remotePort?: number;
}

/** The handles keeping the event loop alive, as short names (`Socket 127.0.0.1:9092`). */
export function openHandles(): string[] {
  const getHandles = (process as unknown as { _getActiveHandles?: () => HandleLike[] })._getActiveHandles;
  const handles = getHandles ? getHandles.call(process) : [];
  return handles
    .filter((h) => h !== process.stdout && h !== process.stderr && h !== process.stdin)
    .map((h) => (h.remoteAddress ? `${h.constructor?.name ?? 'handle'} ${h.remoteAddress}:${h.remotePort}` : (h.constructor?.name ?? 'handle')));
}

export function exitAfter(code: number, graceMs: number, log: (line: string) => void): void {
  const timer = setTimeout(() => {
    log(`teacherlm: exiting with ${openHandles().join(', ') || 'nothing'} still open after ${graceMs / 1000} s`);
    process.exit(code);
  }, graceMs);
  timer.unref();
}
