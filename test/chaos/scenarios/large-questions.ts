/**
 * 1 KB questions: 1,000-character questions on 6 input partitions and 3 output ones, all
 * in the input before the worker starts (the backlog that once made one produce request
 * exceed the broker's limit and stopped every run). Every sample must end augmented.
 */
import type { LiveRun, Scenario } from '../support/scenario.js';

export const largeQuestionsScenario: Scenario = {
  name: 'large-questions',
  teacher: 'echo',
  partitions: 6,
  outputPartitions: 3,
  questionChars: 1_000,
  allAugmented: true,
  backlog: true,
  async faults(run: LiveRun) {
    await run.streamed;
    run.workers.start();
  },
};
