/** Runs scenarios on one broker of the suite's own, both delivery modes of a scenario at once, and prints the table. */
import { DELIVERY_MODES } from '../../../src/pipeline/topology.js';
import { ChaosBroker } from './broker.js';
import { rowFailed, runScenario, type ChaosContext, type ChaosRow, type ChaosSize, type Scenario } from './scenario.js';

/** One scenario in both delivery modes at once, sharing its one-off faults (a broker outage). */
export function runBothModes(broker: ChaosBroker, size: ChaosSize, s: Scenario, keepLogs = false): Promise<ChaosRow[]> {
  const promises = new Map<string, Promise<unknown>>();
  const ctx: ChaosContext = {
    broker,
    size,
    keepLogs,
    shared: <T>(key: string, start: () => Promise<T>) => {
      if (!promises.has(key)) promises.set(key, start());
      return promises.get(key) as Promise<T>;
    },
  };
  return Promise.all(DELIVERY_MODES.map((mode) => runScenario(ctx, s, mode)));
}

export async function runSuite(port: number, size: ChaosSize, scenarios: Scenario[], log: (line: string) => void, keepLogs = false): Promise<ChaosRow[]> {
  const broker = new ChaosBroker(port);
  await broker.start(log);
  const rows: ChaosRow[] = [];
  try {
    for (const s of scenarios) {
      const done = await runBothModes(broker, size, s, keepLogs);
      for (const r of done) log(`${r.scenario} ${r.mode}: ${rowFailed(r) ? 'FAILED' : 'ok'} ${JSON.stringify(r)}`);
      rows.push(...done);
    }
  } finally {
    await broker.stop();
  }
  return rows;
}

export function renderTable(rows: ChaosRow[]): string {
  const head = ['scenario', 'mode', 'sent', 'missing', 'duplicates', 'dead-lettered', 'faults', 'recover s (worst)', 'run s', 'result'];
  const body = rows.map((r) => [r.scenario, r.mode, r.sent, r.missing, r.duplicates, r.deadLettered, r.faults, r.recoverS?.toFixed(1) ?? '-', r.seconds, rowFailed(r) ? 'FAILED' : 'ok'].map(String));
  const lines = [head, ...body];
  const widths = head.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  const fmt = (l: string[]) => `| ${l.map((x, c) => x.padEnd(widths[c]!)).join(' | ')} |`;
  const problems = rows.flatMap((r) => [...r.problems, ...r.notes.map((n) => `note: ${n}`)].map((p) => `${r.scenario} ${r.mode}: ${p}`));
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(fmt), ...problems].join('\n');
}
