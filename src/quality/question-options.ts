/**
 * The options written inline in a TeacherLM question, `... (A) True (B) False`, and the
 * gold label of an answer such as `(B)`.
 */

export interface QuestionOption {
  /** Upper-case letter, e.g. `A`. */
  label: string;
  /** The option's text as written, trimmed, e.g. `True`. */
  text: string;
}

const OPTION = /\(([A-Za-z])\)\s*([^()]*?)\s*(?=\([A-Za-z]\)|$)/g;

/** The options of `question` in order; empty when it lists none. */
export function questionOptions(question: string): QuestionOption[] {
  const options: QuestionOption[] = [];
  for (const m of question.matchAll(OPTION)) {
    options.push({ label: m[1]!.toUpperCase(), text: m[2]!.replace(/[.,;:]+$/, '').trim() });
  }
  return options;
}

/** The gold label of `answer` (`(B)`, `B`, `b)`), or undefined when it names none. */
export function goldLabel(answer: string): string | undefined {
  const m = /^\s*\(?([A-Za-z])\)?\s*\.?\s*$/.exec(answer);
  return m ? m[1]!.toUpperCase() : undefined;
}
