// The invented-options guard on the default teacher: with the default topology's
// fundamentals teacher, SmolLM2 opens "The answer is (C)" for questions that offer only (A)
// and (B); banInventedOptions must stop that through the real tokenizer's "(C" and " (C",
// and a banned prompt must give the same text alone as in a batch beside an unbanned one.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadTopology } from '../../src/pipeline/topology.js';
import { generationForSample } from '../../src/quality/invented-options.js';
import { parseFieldMap } from '../../src/records/field-map.js';
import { mapToSample } from '../../src/records/map-sample.js';
import { createChatTemplate } from '../../src/teacher/chat-template.js';
import { createEngine } from '../../src/teacher/create-engine.js';
import { loadTokenizerConfig } from '../../src/teacher/model-files.js';
import { buildPrompt } from '../../src/teacher/prompts.js';
import { CREAK_DEV } from '../support/creak.js';
import { PROJECT_DIR, SMOLLM2_DIR, smollm2Prerequisite } from '../support/smollm2.js';

const present = smollm2Prerequisite('the invented-options guard on the default teacher');

describe.skipIf(!present)('banInventedOptions on SmolLM2-135M-Instruct', () => {
  it('ends "(C)" under (A)/(B) questions, per prompt, batching invisible', async () => {
    const teacher = loadTopology('topologies/default.yaml', PROJECT_DIR).teachers.find((t) => t.annotation === 'fundamentals')!;
    const chat = createChatTemplate(loadTokenizerConfig(SMOLLM2_DIR));
    // dev_600-dev_603: the tuning samples of the default topology (README, "Quality gate").
    const samples = readFileSync(CREAK_DEV, 'utf8').split('\n').slice(600, 604)
      .map((l) => mapToSample(JSON.parse(l) as Record<string, unknown>, parseFieldMap('id=ex_id,task=task_name'), false));
    const prompts = samples.map((s) => buildPrompt(s, 'fundamentals', 'chat', chat, teacher.instructions));
    const generation = { ...teacher.generation, maxNewTokens: 12 };
    const engine = await createEngine({ modelDir: SMOLLM2_DIR, workers: 1, device: 'cpu' });
    try {
      const free = await engine.generate(prompts.map((prompt) => ({ prompt, options: generation })));
      expect(free.filter((r) => r.text.includes('(C')).length, free.map((r) => r.text).join(' | ')).toBeGreaterThan(0);
      const guarded = samples.map((s, i) => ({ prompt: prompts[i]!, options: generationForSample(generation, true, s.question) }));
      const banned = await engine.generate(guarded);
      for (const r of banned) expect(r.text).not.toMatch(/\([C-Zc-z](?![A-Za-z])/);
      // The first prompt banned, alone and beside an unbanned one.
      const [alone] = await engine.generate([guarded[0]!]);
      const [mixed, plain] = await engine.generate([guarded[0]!, { prompt: prompts[1]!, options: generation }]);
      expect(mixed!.text).toBe(alone!.text);
      expect(alone!.text).toBe(banned[0]!.text);
      expect(plain!.text).toBe(free[1]!.text);
    } finally {
      await engine.close();
    }
  });
});
