/** A source whose records() is replaced (to time them), every other method, optional ones included, bound to the original. */
import type { RecordSource } from '../../src/pipeline/ports.js';

export function withRecords(source: RecordSource, records: RecordSource['records']): RecordSource {
  const wrapped: RecordSource = {
    records,
    pause: (topic, partition) => source.pause(topic, partition),
    resume: (topic, partition) => source.resume(topic, partition),
    commit: (offsets) => source.commit(offsets),
    stop: () => source.stop(),
    stats: () => source.stats(),
  };
  if (source.assigned) wrapped.assigned = () => source.assigned!();
  if (source.caughtUp) wrapped.caughtUp = () => source.caughtUp!();
  if (source.committedOffsets) wrapped.committedOffsets = (partitions) => source.committedOffsets!(partitions);
  if (source.seek) wrapped.seek = (topic, partition, offset) => source.seek!(topic, partition, offset);
  if (source.rebalances) wrapped.rebalances = () => source.rebalances!();
  if (source.lagByPartition) wrapped.lagByPartition = () => source.lagByPartition!();
  return wrapped;
}
