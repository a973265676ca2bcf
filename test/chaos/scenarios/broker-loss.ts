/**
 * broker loss: SIGKILL the broker at 40% of the stream and start it again `brokerDownMs`
 * (10 s in the full suite) later; the worker must carry on by itself. Both modes run at
 * once on the one broker, so they share the outage. Recovery is measured from the moment
 * the broker answers again.
 */
import { sleep, type LiveRun, type Scenario } from '../support/scenario.js';

export const brokerLossScenario: Scenario = {
  name: 'broker-loss',
  teacher: 'echo',
  partitions: 6,
  outputPartitions: 3,
  questionChars: 200,
  allAugmented: true,
  async faults(run: LiveRun) {
    run.workers.start();
    await run.writes(120_000);
    await run.untilStream(0.4);
    const back = await run.ctx.shared('broker-loss', async () => {
      run.ctx.broker.kill();
      await sleep(run.ctx.size.brokerDownMs);
      await run.ctx.broker.restart();
      return Date.now();
    });
    run.fault(back);
  },
};
