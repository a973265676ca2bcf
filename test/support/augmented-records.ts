/** AugmentedSample records as the pipeline writes them, for feeding student-side tests without a teacher. */
import { recordCodecs } from '../../src/records/codecs.js';
import type { Annotation, AugmentedSample } from '../../src/records/types.js';

const codecs = recordCodecs();
const note = (text: string): Annotation => ({ text, modelId: 'echo', promptTokens: 1, generatedTokens: 1, finishReason: 'eos' });

/** Sample `i` ("is i even?") with all three annotations, encoded with the project's codec. */
export function augmentedRecord(id: string, i: number): Buffer {
  const sample: AugmentedSample = {
    id,
    task: 'CREAK',
    question: `Determine the correctness of the following sentence. ${i} is an even number. (A) True (B) False`,
    answer: i % 2 ? '(B)' : '(A)',
    context: null,
    metadata: {},
    fundamentals: note(`A number is even when 2 divides it; ${i} leaves ${i % 2} when divided by 2.`),
    chainOfThought: note(`${i} divided by 2 leaves ${i % 2}. So the sentence is ${i % 2 ? 'false' : 'true'}.`),
    commonMistakes: note('Confusing odd and even numbers.'),
    source: { topic: 'raw', partition: 0, offset: i },
    sourceTimestamp: 0,
    augmentedAt: 0,
  };
  return codecs.augmentedSample.encode(sample);
}
