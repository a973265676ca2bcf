/** One line of what the gate counted, for summaries: `72 checked, 27 passed, 45 regenerations; failed: truncated 42, contradiction 3`. */
import type { QualityCounts } from './gate.js';

export function describeQuality(c: QualityCounts): string {
  const failed = Object.entries(c.failedByCheck).map(([check, n]) => `${check} ${n}`);
  const rejected = [c.dropped > 0 ? `${c.dropped} dropped` : '', c.deadLettered > 0 ? `${c.deadLettered} dead-lettered` : ''].filter(Boolean);
  return [`${c.checked} checked, ${c.passed} passed, ${c.regenerations} regenerations`, failed.length > 0 ? `failed: ${failed.join(', ')}` : '', rejected.join(', ')]
    .filter(Boolean)
    .join('; ');
}
