/**
 * engine crash: the tiny model's engine worker thread dies mid-batch `faults` times
 * (the test seam TEACHERLM_TEST_ENGINE_CRASH_FILE: the next batch to find that file
 * deletes it and ends its thread after its first token). The pool replaces the thread
 * and the batch is retried, so every sample must still end augmented, none dead-lettered.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, type LiveRun, type Scenario } from '../support/scenario.js';

const DIED = /engine worker died/g;

export const engineCrashScenario: Scenario = {
  name: 'engine-crash',
  teacher: 'tiny',
  partitions: 6,
  outputPartitions: 3,
  questionChars: 200,
  allAugmented: true,
  async faults(run: LiveRun) {
    const flag = join(run.dir, 'crash-engine');
    run.workers.start([], { TEACHERLM_TEST_ENGINE_CRASH_FILE: flag });
    let since = run.startedAt;
    for (let k = 0; k < run.ctx.size.faults; k++) {
      // As in kill: each crash after the last one was recovered from, at a random moment.
      await run.recovered(since, 120_000);
      await sleep(Math.random() * 2_000);
      writeFileSync(flag, '');
      const deadline = Date.now() + 60_000;
      while (existsSync(flag) && Date.now() < deadline) await sleep(20);
      if (existsSync(flag)) return; // no batch came: verify reports the missing crash
      since = Date.now();
      run.fault(since);
    }
  },
  verify(run: LiveRun) {
    const died = run.workers.all.reduce((sum, w) => sum + (w.log().match(DIED)?.length ?? 0), 0);
    return died === run.ctx.size.faults ? [] : [`${died} engine worker crashes logged, ${run.ctx.size.faults} injected`];
  },
};
