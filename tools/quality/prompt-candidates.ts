/** The candidates tools/quality/compare-prompts.ts measures (README, "Quality gate"). */
import type { AnnotationKind, GenerationOptions } from '../../src/index.js';
import type { PromptInstructions } from '../../src/teacher/prompts.js';

export interface Candidate {
  name: string;
  instructions?: Partial<Record<AnnotationKind, PromptInstructions>>;
  generation?: Partial<GenerationOptions>;
}

const TEACHER =
  'You are a teacher writing explanations for students. You are given a true/false or multiple-choice question together with its correct answer. ' +
  'The answer given is always correct: never say that another option is right.';

export const CANDIDATES: Candidate[] = [
  { name: 'reference-prompt' },
  { name: 'decoding', generation: { repetitionPenalty: 1.2, noRepeatNgramSize: 4 } },
  {
    name: 'system',
    instructions: { fundamentals: { system: TEACHER }, cot: { system: TEACHER }, mistakes: { system: TEACHER } },
  },
  {
    name: 'system+task',
    instructions: {
      fundamentals: { system: TEACHER, user: '{prompt}\nIn two or three sentences, state the background facts a student needs to see why this answer is correct.' },
      cot: { system: TEACHER, user: '{prompt}\nReason step by step, from facts, to the given answer.' },
      mistakes: { system: TEACHER, user: '{prompt}\nDescribe the mistakes a student might make that lead to the wrong option, and why they are wrong.' },
    },
  },
  {
    name: 'system+task+decoding',
    generation: { repetitionPenalty: 1.2, noRepeatNgramSize: 4 },
    instructions: {
      fundamentals: { system: TEACHER, user: '{prompt}\nIn two or three sentences, state the background facts a student needs to see why this answer is correct.' },
      cot: { system: TEACHER, user: '{prompt}\nReason step by step, from facts, to the given answer.' },
      mistakes: { system: TEACHER, user: '{prompt}\nDescribe the mistakes a student might make that lead to the wrong option, and why they are wrong.' },
    },
  },
];
