/**
 * kill: SIGKILL the worker `faults` times, restarting it each time. Each kill comes at a
 * random moment within 2 s after the worker has recovered from the previous one (every
 * input partition wrote again), so kills land mid-work, often between a write and its
 * commit, and one kill's recovery is not cut short by the next.
 */
import { sleep, type LiveRun, type Scenario } from '../support/scenario.js';
import type { ChaosTeacher } from '../support/topology.js';

export function killScenario(teacher: ChaosTeacher): Scenario {
  return {
    name: teacher === 'echo' ? 'kill' : 'kill-tiny-model',
    teacher,
    partitions: 6,
    outputPartitions: 3,
    questionChars: 200,
    allAugmented: true,
    async faults(run: LiveRun) {
      let since = run.startedAt;
      for (let k = 0; k < run.ctx.size.faults; k++) {
        const worker = run.workers.start();
        // A restarted worker waits out its killed predecessor's session first.
        await run.recovered(since, 120_000);
        await sleep(Math.random() * 2_000);
        since = Date.now();
        run.fault(since);
        await worker.stop('SIGKILL');
      }
      run.workers.start();
    },
  };
}
