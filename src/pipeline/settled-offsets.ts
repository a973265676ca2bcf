/**
 * Committed offsets read after a transaction may have just committed. A transaction's
 * offset commit becomes visible to OffsetFetch a moment after its markers are written:
 * the group coordinator applies it asynchronously. Kafka's answer is OffsetFetch v7's
 * `require_stable` (KIP-447), which kafkajs 2.2.4 does not send (it stops at v4). So a
 * read right after fencing can return the offset from before the last commit, and
 * redoing that range writes it twice. Offsets of a fenced partition only move forward,
 * so reading again after a pause and keeping the larger closes that window in practice
 * (it cannot prove the absence of a slower apply).
 */
export const SETTLE_MS = 400;

/** The larger of two offsets; '-1' (none committed) is the smallest. */
const larger = (a: string, b: string): string => (BigInt(b) > BigInt(a) ? b : a);

/** Waits `ms` on a timer that keeps no process alive. */
export const unrefDelay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Reads `read()` twice, `settleMs` apart (0: once), and keeps the larger offset per key. */
export async function settledOffsets<T extends { offset: string }>(
  read: () => Promise<T[]>,
  keyOf: (item: T) => string,
  settleMs = SETTLE_MS,
  wait: (ms: number) => Promise<void> = unrefDelay,
): Promise<T[]> {
  const first = await read();
  if (settleMs <= 0) return first;
  await wait(settleMs);
  const second = new Map((await read()).map((item) => [keyOf(item), item]));
  return first.map((item) => {
    const again = second.get(keyOf(item));
    return again ? { ...item, offset: larger(item.offset, again.offset) } : item;
  });
}
