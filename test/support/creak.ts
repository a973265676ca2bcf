/** The CREAK dev set vendored under test/fixtures/creak (see its README for the licence). */
import { join } from 'node:path';

export const CREAK_DIR = join(import.meta.dirname, '..', 'fixtures', 'creak');
/** 1,371 raw samples: ex_id, task_name, question (options inline), answer, analysis. */
export const CREAK_DEV = join(CREAK_DIR, 'creak-dev.jsonl');
/** The reference TeacherLM prompts of the same rows. */
export const CREAK_DEV_PROMPTS = join(CREAK_DIR, 'creak-dev-prompts.jsonl');
