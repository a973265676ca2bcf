/**
 * `teacherlm student-feed` under fire, on the real broker: while 3,000 augmented samples
 * stream in (transactions, one of them aborted), the feed is SIGKILLed three times and
 * restarted. The shards its manifest names must hold every (id, kind) exactly once and
 * nothing of the aborted transaction (read_committed); no file outside the manifest may
 * be left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import type { Manifest } from '../../src/student-feed/manifest.js';
import { augmentedRecord } from '../support/augmented-records.js';
import { kafkaBrokers, testKafka, uniqueName } from '../support/brokers.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'teacherlm.js');
const SAMPLES = 3_000;
const PER_TXN = 50;
/** Starts the feed; resolves `shards(n)` once it has logged n sealed shards. */
function startFeed(args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'student-feed', ...args], {
    env: { ...process.env, TEACHERLM_FROM_SOURCE: '1', KAFKA_BROKERS: kafkaBrokers().join(','), OTEL_SDK_DISABLED: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let sealed = 0;
  let stderr = '';
  const waiters: { n: number; resolve: () => void }[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    sealed = stderr.split('\n').filter((l) => l.includes('"event":"shard"')).length;
    for (const w of waiters.filter((w) => sealed >= w.n)) w.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    shards: (n: number) => new Promise<void>((resolve) => (sealed >= n ? resolve() : waiters.push({ n, resolve }))),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    exited,
    stderr: () => stderr,
  };
}

describe('teacherlm student-feed under fire', () => {
  it('writes each (id, kind) exactly once across three SIGKILLs during a 3,000-sample stream', { timeout: 420_000 }, async () => {
    const kafka = testKafka();
    const topic = uniqueName('augmented');
    const group = uniqueName('student-feed');
    const out = mkdtempSync(join(tmpdir(), 'student-feed-chaos-'));
    await ensureTopics(kafka, [{ topic, partitions: 3 }]);

    // The stream: transactions of 50 samples, about one a second, and one aborted transaction.
    const producer = kafka.producer({ transactionalId: uniqueName('txn'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let streamDone = false;
    const streamed = (async () => {
      for (let start = 0; start < SAMPLES; start += PER_TXN) {
        const txn = await producer.transaction();
        const messages = Array.from({ length: PER_TXN }, (_, j) => ({ key: `s-${start + j}`, value: augmentedRecord(`s-${start + j}`, start + j) }));
        await txn.send({ topic, messages });
        await txn.commit();
        if (start === 1_000) {
          const aborted = await producer.transaction();
          await aborted.send({ topic, messages: [0, 1, 2].map((p) => ({ key: `aborted-${p}`, value: augmentedRecord(`aborted-${p}`, p), partition: p })) });
          await aborted.abort();
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
      streamDone = true;
    })();

    const args = ['--out', out, '--topic', topic, '--group', group, '--shard-records', '150', '--shard-seconds', '1', '--until-idle', '5000'];
    const logs: string[] = [];
    for (const sealedBeforeKill of [3, 2, 2]) {
      const feed = startFeed(args);
      await feed.shards(sealedBeforeKill);
      // Somewhere between two seals: mid-shard, mid-rename or mid-commit.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      await feed.kill();
      logs.push(feed.stderr());
    }
    const producing = !streamDone;
    await streamed;
    await producer.disconnect();
    const last = startFeed(args);
    expect(await last.exited).toBe(0);
    logs.push(last.stderr());

    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(readdirSync(out).sort()).toEqual(['manifest.json', ...manifest.shards.map((s) => s.file)].sort());
    const counts = new Map<string, number>();
    for (const shard of manifest.shards) {
      const lines = readFileSync(join(out, shard.file), 'utf8').trimEnd().split('\n');
      expect(lines.length).toBe(shard.sequences);
      for (const line of lines) {
        const { id, kind } = JSON.parse(line) as { id: string; kind: string };
        counts.set(`${id}/${kind}`, (counts.get(`${id}/${kind}`) ?? 0) + 1);
      }
    }
    const twice = [...counts].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    expect(counts.size).toBe(SAMPLES * 3);
    for (let i = 0; i < SAMPLES; i++) for (const kind of ['cot', 'fundamentals', 'mistakes']) expect(counts.has(`s-${i}/${kind}`)).toBe(true);
    expect([...counts.keys()].some((k) => k.startsWith('aborted-'))).toBe(false);
    // The kills landed while samples were still arriving, and restarts did meet records the manifest already held.
    expect(producing).toBe(true);
    const reconciled = logs.map((l) => l.split('\n').find((line) => line.includes('"event":"reconciled"')) ?? '');
    expect(reconciled.every((l) => l !== '')).toBe(true);
    console.log(`student-feed chaos: ${manifest.shards.length} shards, ${counts.size} (id, kind) pairs, each once; restarts: ${reconciled.slice(1).join(' | ')}`);
  });
});
