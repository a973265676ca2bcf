/** One line of what the gate counted, for summaries: `72 checked, 27 passed, 45 regenerations, 20 trimmed; failed: truncated 42, contradiction 3`. */
import type { QualityCounts } from './gate.js';

export function describeQuality(c: QualityCounts): string {
  const failed = Object.entries(c.failedByCheck).map(([check, n]) => `${check} ${n}`);
  const rejected = [c.dropped > 0 ? `${c.dropped} dropped` : '', c.deadLettered > 0 ? `${c.deadLettered} dead-lettered` : ''].filter(Boolean);
  const repaired = Object.entries(c.repaired ?? {}).map(([repair, n]) => `, ${n} ${repair}`).join('');
  return [`${c.checked} checked, ${c.passed} passed, ${c.regenerations} regenerations${repaired}`, failed.length > 0 ? `failed: ${failed.join(', ')}` : '', rejected.join(', ')]
    .filter(Boolean)
    .join('; ');
}
