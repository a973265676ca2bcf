/**
 * rebalance: two workers in one group on a 6-partition input; a third joins at 25% of the
 * stream, one leaves by SIGTERM at 50% and one by SIGKILL at 75%; the third drains.
 */
import type { LiveRun, Scenario } from '../support/scenario.js';

export const rebalanceScenario: Scenario = {
  name: 'rebalance',
  teacher: 'echo',
  partitions: 6,
  outputPartitions: 3,
  questionChars: 200,
  allAugmented: true,
  async faults(run: LiveRun) {
    const first = run.workers.start();
    const second = run.workers.start();
    await run.writes(120_000);
    await run.untilStream(0.25);
    run.fault();
    run.workers.start();
    await run.untilStream(0.5);
    await first.running();
    run.fault();
    await first.stop('SIGTERM');
    await run.untilStream(0.75);
    run.fault();
    await second.stop('SIGKILL');
  },
};
