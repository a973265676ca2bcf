/**
 * Reading back with a client that is not ours: kcat `-X isolation.level=read_committed`
 * over the whole augmented and dead-letter topics, every record's key (the sample id),
 * CreateTime and topic. kcat runs beside the suite's event loop, never blocking it: the
 * input stream's producer shares that loop, and a read-back that held it stopped the input.
 */
import { execFile } from 'node:child_process';
import { partitionOfId, sampleId } from './stream.js';

export interface OutRecord {
  id: string;
  /** CreateTime, ms: set by the worker when it sends (exactly-once sends at commit). */
  ts: number;
  deadLetter: boolean;
}

/** A read-back that takes longer is killed and fails: kcat waits for a broker that does not answer. */
const KCAT_TIMEOUT_MS = 60_000;

export async function kcatKeys(broker: string, topic: string, timeoutMs = KCAT_TIMEOUT_MS): Promise<{ id: string; ts: number }[]> {
  // A short fetch wait: at the default 500 ms, finding the end of even an empty topic takes a second.
  const args = ['-b', broker, '-C', '-t', topic, '-X', 'isolation.level=read_committed', '-X', 'fetch.wait.max.ms=20', '-e', '-q', '-f', '%k\\t%T\\n'];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('kcat', args, { encoding: 'utf8', maxBuffer: 1 << 28, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, out, stderr) => {
      if (!err) return resolve(out);
      const why = err.killed ? `no answer in ${timeoutMs / 1000} s` : stderr.trim() || err.message;
      reject(new Error(`kcat could not read ${topic} on ${broker}: ${why}`, { cause: err }));
    });
  });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, ts] = line.split('\t');
      return { id: id!, ts: Number(ts) };
    });
}

export async function readOutputs(broker: string, output: string, deadLetter: string): Promise<OutRecord[]> {
  const [out, dead] = await Promise.all([kcatKeys(broker, output), kcatKeys(broker, deadLetter)]);
  return [...out.map((r) => ({ ...r, deadLetter: false })), ...dead.map((r) => ({ ...r, deadLetter: true }))];
}

export interface Counts {
  sent: number;
  missing: number;
  duplicates: number;
  deadLettered: number;
}

/** Every id q0..q{samples-1} against the records read: missing ids, records beyond one per id, ids dead-lettered. */
export function countIds(records: OutRecord[], samples: number): Counts {
  const seen = new Map<string, number>();
  let deadLettered = 0;
  for (const r of records) {
    seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    if (r.deadLetter) deadLettered++;
  }
  let missing = 0;
  for (let i = 0; i < samples; i++) if (!seen.has(sampleId(i))) missing++;
  const extra = [...seen.keys()].filter((id) => !/^q\d+$/.test(id) || Number(id.slice(1)) >= samples).length;
  if (extra > 0) throw new Error(`${extra} ids in the outputs were never sent`);
  return { sent: samples, missing, duplicates: records.length - seen.size, deadLettered };
}

/** The input topic holds each id exactly once, or the output counts would mean nothing. */
export async function checkInput(broker: string, input: string, samples: number): Promise<void> {
  const keys = (await kcatKeys(broker, input)).map((r) => r.id);
  const distinct = new Set(keys);
  if (keys.length !== samples || distinct.size !== samples) throw new Error(`input topic ${input} holds ${keys.length} records, ${distinct.size} ids, for ${samples} samples`);
}

/**
 * Time to recover after a fault at `at` (ms): the seconds until every input partition
 * that still had work after it has written again, i.e. the latest, over partitions, of
 * the first committed output record (by CreateTime) of that partition after the fault.
 * A partition with no output after the fault had nothing left and does not count.
 */
export function recoverySeconds(records: OutRecord[], at: number, partitions: number): number | undefined {
  const first = firstWritesAfter(records, at, partitions);
  if (first.size === 0) return undefined;
  return (Math.max(...first.values()) - at) / 1000;
}

/** How many input partitions have output timestamped after `at`. */
export function partitionsWrittenSince(records: OutRecord[], at: number, partitions: number): number {
  return firstWritesAfter(records, at, partitions).size;
}

/** Input partition -> CreateTime of its first output record after `at`. */
function firstWritesAfter(records: OutRecord[], at: number, partitions: number): Map<number, number> {
  const first = new Map<number, number>();
  for (const r of records) {
    if (r.ts <= at) continue;
    const p = partitionOfId(r.id, partitions);
    const t = first.get(p);
    if (t === undefined || r.ts < t) first.set(p, r.ts);
  }
  return first;
}
