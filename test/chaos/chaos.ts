/**
 * `npm run test:chaos`: every scenario of scenarios/ in both delivery modes, on real
 * `teacherlm run` processes and a broker of the suite's own on 127.0.0.1:19092 (never the
 * shared one), each counted with kcat read_committed (support/count.ts). Prints the table
 * scenario x mode -> sent, missing, duplicates, dead-lettered, worst time to recover;
 * exits 1 on a missing id, an exactly-once duplicate or a problem.
 *
 * `-- --samples N --faults K --stream-seconds S --broker-down-seconds S --scenarios kill,rebalance`
 * sizes and picks; `--keep-logs` keeps every run's folder (worker logs), not only failed ones'.
 */
import { parseArgs } from 'node:util';
import { intArg } from '../../src/options.js';
import { SCENARIOS } from './scenarios/index.js';
import { renderTable, runSuite } from './support/suite.js';
import { rowFailed } from './support/scenario.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string' },
    faults: { type: 'string' },
    'stream-seconds': { type: 'string' },
    'broker-down-seconds': { type: 'string' },
    scenarios: { type: 'string' },
    port: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
  },
});
const picked = values.scenarios?.split(',');
const unknown = picked?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
if (unknown.length) throw new Error(`--scenarios: unknown ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
const scenarios = picked ? SCENARIOS.filter((s) => picked.includes(s.name)) : SCENARIOS;

const rows = await runSuite(
  intArg('--port', values.port, { min: 1024, max: 65534 }) ?? 19092,
  {
    samples: intArg('--samples', values.samples) ?? 3000,
    faults: intArg('--faults', values.faults, { min: 0 }) ?? 5,
    streamMs: (intArg('--stream-seconds', values['stream-seconds'], { min: 0 }) ?? 60) * 1000,
    brokerDownMs: (intArg('--broker-down-seconds', values['broker-down-seconds'], { min: 0 }) ?? 10) * 1000,
    drainMs: 180_000,
  },
  scenarios,
  (line) => console.error(line),
  values['keep-logs'],
);
console.log(renderTable(rows));
console.log('recover s: per fault, the seconds until every input partition with work left has written committed output again (the first output record by CreateTime after the fault, slowest partition), worst fault shown');
process.exitCode = rows.some(rowFailed) ? 1 : 0;
