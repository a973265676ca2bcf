/**
 * The chaos suite's reduced form, in `npm test`: every scenario of scenarios/ in both
 * delivery modes with 300 samples, one fault each, a 5 s broker outage and 6 s sessions,
 * on a broker of its own (19094: the full suite's 19092 may be running). Fails on any
 * missing id, an exactly-once duplicate, or a scenario's problem (a worker that exited by
 * itself, an injected crash that did not happen, a sample dead-lettered).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIOS } from './scenarios/index.js';
import { ChaosBroker } from './support/broker.js';
import type { ChaosSize } from './support/scenario.js';
import { runBothModes } from './support/suite.js';
import { kcatPrerequisite } from '../support/prerequisite.js';

const SIZE: ChaosSize = { samples: 300, streamMs: 12_000, faults: 1, brokerDownMs: 5_000, sessionTimeoutMs: 6_000, drainMs: 90_000 };

describe.skipIf(!kcatPrerequisite('the reduced chaos scenarios'))('chaos, reduced', () => {
  const broker = new ChaosBroker(19094);
  beforeAll(() => broker.start());
  afterAll(() => broker.stop());

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s: none missing, no exactly-once duplicate', async (_name, scenario) => {
    for (const row of await runBothModes(broker, SIZE, scenario)) {
      const about = JSON.stringify(row);
      // Where a scenario's time went (recovery, run seconds), in CI's log even when it passes.
      console.log(`chaos ${row.scenario} ${row.mode}: ${about}`);
      expect(row.missing, about).toBe(0);
      if (row.mode === 'exactly-once') expect(row.duplicates, about).toBe(0);
      expect(row.problems, about).toEqual([]);
    }
  }, 240_000);
});
