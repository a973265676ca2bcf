/**
 * The student trainer (examples/student) on the real broker: it trains while samples are
 * still arriving, its loss falls, and after a SIGKILL and restart it resumes at its
 * checkpoint: its step log lists every id exactly once. The venv is created on demand by
 * examples/student/install.sh (Debian's python3-torch and the pinned packages).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { augmentedRecord } from '../support/augmented-records.js';
import { kafkaBrokers, testKafka, uniqueName } from '../support/brokers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const STUDENT = join(ROOT, 'examples', 'student');
const TOKENIZER = join(ROOT, 'models', 'smollm2-135m-instruct', 'tokenizer.json');
const SAMPLES = 64;
const BATCH = 4;

interface StepLine {
  step: number;
  ts: number;
  loss: number;
  ids: string[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.skipIf(!existsSync(TOKENIZER))('student trainer on the real broker', () => {
  let python: string;
  beforeAll(() => {
    python = execFileSync('bash', [join(STUDENT, 'install.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  }, 900_000);

  it("counts --until-idle only once the group has assigned partitions (the trainer's unit tests, in its venv)", () => {
    const run = spawnSync(python, [join(STUDENT, 'tests', 'test_kafka_dataset.py'), '-v'], { encoding: 'utf8' });
    expect(run.stderr).toMatch(/Ran 2 tests/);
    expect(run.status, run.stderr).toBe(0);
  });

  it('trains while samples arrive, loss falls, and a SIGKILL loses or repeats no id', { timeout: 900_000 }, async () => {
    const kafka = testKafka();
    const topic = uniqueName('augmented');
    const group = uniqueName('student');
    const runDir = mkdtempSync(join(tmpdir(), 'student-run-'));
    await ensureTopics(kafka, [{ topic, partitions: 2 }]);

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    let producerDoneAt = Infinity;
    const streamed = (async () => {
      for (let start = 0; start < SAMPLES; start += 8) {
        await producer.send({ topic, messages: Array.from({ length: 8 }, (_, j) => ({ key: `s-${start + j}`, value: augmentedRecord(`s-${start + j}`, start + j) })) });
        await new Promise((r) => setTimeout(r, 2_500));
      }
      producerDoneAt = Date.now() / 1000;
    })();

    const train = (onStep: (step: number, kill: () => void) => void) => {
      const child = spawn(python, ['-m', 'student.train', '--topic', topic, '--group', group, '--run-dir', runDir, '--kinds', 'cot,mistakes',
        '--batch-size', String(BATCH), '--lr', '3e-3', '--until-idle', '8000', '--threads', '1'], {
        cwd: STUDENT,
        env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(',') },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        const text = d.toString();
        stderr += text;
        for (const m of text.matchAll(/"event": "step", "step": (\d+)/g)) onStep(Number(m[1]), () => child.kill('SIGKILL'));
      });
      return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal, stderr })),
      );
    };
    const first = await train((step, kill) => step >= 5 && kill());
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const second = await train(() => {});
    await streamed;
    await producer.disconnect();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/"event": "resumed", "step": \d+/);

    const steps = readFileSync(join(runDir, 'steps.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as StepLine);
    expect(steps.map((s) => s.step)).toEqual(steps.map((_, i) => i + 1));
    const ids = steps.flatMap((s) => s.ids);
    expect(ids.length - new Set(ids).size).toBe(0); // no id trained twice
    expect(new Set(ids).size).toBe(SAMPLES); // and none skipped
    expect(steps[0]!.ts).toBeLessThan(producerDoneAt); // training began while samples were still arriving
    const tenth = Math.max(1, Math.floor(steps.length / 10));
    const firstLoss = mean(steps.slice(0, tenth).map((s) => s.loss));
    const lastLoss = mean(steps.slice(-tenth).map((s) => s.loss));
    console.log(`student trainer: ${steps.length} steps, loss first 10% ${firstLoss.toFixed(3)} -> last 10% ${lastLoss.toFixed(3)}; resumed: ${second.stderr.split('\n').find((l) => l.includes('"resumed"'))}`);
    expect(lastLoss).toBeLessThan(firstLoss);
  });
});
