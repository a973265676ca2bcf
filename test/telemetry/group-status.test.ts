import type { Admin } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readGroupStatus } from '../../src/telemetry/group-status.js';

/** An admin that answers like a broker, with describeGroups failing `failures` times first. */
function fakeAdmin(failures: number, retriable: boolean) {
  let described = 0;
  const admin = {
    listTopics: async () => ['in'],
    fetchTopicOffsets: async () => [{ partition: 0, offset: '10', high: '10', low: '0' }],
    fetchOffsets: async () => [{ topic: 'in', partitions: [{ partition: 0, offset: '4', metadata: null }] }],
    describeGroups: async () => {
      described++;
      if (described <= failures) throw Object.assign(new Error('This is not the correct coordinator for this group'), { type: 'NOT_COORDINATOR', retriable });
      return { groups: [{ groupId: 'g', state: 'Stable', members: [], protocol: '', protocolType: 'consumer', errorCode: 0 }] };
    },
  };
  return { admin: admin as unknown as Admin, calls: () => described };
}

describe('readGroupStatus', () => {
  afterEach(() => vi.useRealTimers());

  it('reads again after a retriable error such as NOT_COORDINATOR', async () => {
    vi.useFakeTimers();
    const { admin, calls } = fakeAdmin(2, true);
    const status = readGroupStatus(admin, { group: 'g', topic: 'in', now: () => 0 });
    await vi.runAllTimersAsync();
    await expect(status).resolves.toMatchObject({ state: 'Stable', partitions: [{ partition: 0, committed: '4', lag: 6 }] });
    expect(calls()).toBe(3);
  });

  it('fails at once on an error that is not retriable, naming the group', async () => {
    const { admin, calls } = fakeAdmin(1, false);
    await expect(readGroupStatus(admin, { group: 'g', topic: 'in' })).rejects.toThrow("could not read group 'g' on 'in'");
    expect(calls()).toBe(1);
  });
});
