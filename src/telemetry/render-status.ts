/**
 * `teacherlm status` as text: the group's partitions and members from Kafka, and a
 * worker's figures when one was scraped. Rates come from the change since the previous
 * reading, so they need two.
 */
import type { GroupStatus } from './group-status.js';
import type { WorkerFigures } from './worker-scrape.js';

export interface StatusReading {
  group: GroupStatus;
  worker?: WorkerFigures;
}

const perSecond = (delta: number, ms: number): string => (ms > 0 ? (delta / (ms / 1000)).toFixed(1) : '?');

export function renderStatus(current: StatusReading, previous?: StatusReading): string {
  const { group } = current;
  const lines: string[] = [];
  const totalLag = group.partitions.reduce((n, p) => n + p.lag, 0);
  lines.push(`group ${group.group} on ${group.topic} · ${group.state} · ${group.members.length} member${group.members.length === 1 ? '' : 's'}`);
  lines.push('partition  committed        end        lag');
  for (const p of group.partitions) {
    lines.push(`${String(p.partition).padStart(9)}  ${(p.committed ?? '-').padStart(9)}  ${p.end.padStart(9)}  ${String(p.lag).padStart(9)}`);
  }
  const throughput = previous ? `${perSecond(Number(group.committedTotal - previous.group.committedTotal), group.at - previous.group.at)} records/s committed` : 'throughput ?';
  lines.push(`lag ${totalLag} · ${throughput} · dead letters ${group.deadLetters ?? '?'}`);
  for (const m of group.members) {
    lines.push(`  member ${m.clientId} ${m.host} partitions ${m.partitions.length > 0 ? m.partitions.join(',') : '-'}`);
  }
  const w = current.worker;
  if (w) {
    const before = previous?.worker;
    const ms = before ? w.at - before.at : 0;
    const rates = before
      ? ` · ${perSecond(w.written - before.written, ms)} records/s · tokens/s in ${perSecond(w.promptTokens - before.promptTokens, ms)} out ${perSecond(w.generatedTokens - before.generatedTokens, ms)}`
      : '';
    const busy = w.busy === undefined ? '?' : `${(w.busy * 100).toFixed(0)}%`;
    lines.push(`worker ${w.url}: written ${w.written} (dead ${w.deadLettered}) · in flight ${w.inFlight} · queue ${w.queueDepth} · busy ${busy}${rates}`);
  }
  return `${lines.join('\n')}\n`;
}
