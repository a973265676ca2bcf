/**
 * kill: SIGKILL the worker `faults` times, each at a random moment within 2 s after it
 * began writing (so between a write and its commit, often), restarting it each time.
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
      for (let k = 0; k < run.ctx.size.faults; k++) {
        const worker = run.workers.start();
        // A restarted worker waits out its killed predecessor's session first.
        await run.writes(120_000);
        await sleep(Math.random() * 2_000);
        run.fault();
        await worker.stop('SIGKILL');
      }
      run.workers.start();
    },
  };
}
