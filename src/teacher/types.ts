/**
 * Contracts between the teacher engine and its users (file mode, the streaming
 * pipeline). The engine implements {@link TextGenerator}; so does the echo teacher.
 */

/** The three TeacherLM annotations. */
export const ANNOTATION_KINDS = ['fundamentals', 'cot', 'mistakes'] as const;
export type AnnotationKind = (typeof ANNOTATION_KINDS)[number];

/** `raw` for TeacherLM-native models; `chat` wraps the prompt in the model's chat template. */
export type PromptStyle = 'raw' | 'chat';

/** A raw NLP sample; `question` carries its options inline, `answer` the gold label. */
export interface RawSample {
  id: string;
  task: string;
  question: string;
  answer: string;
  context?: string | null;
  metadata?: Record<string, string>;
}

export interface GenerationOptions {
  maxNewTokens: number;
  /** 0 means greedy decoding. */
  temperature: number;
  topK?: number;
  topP?: number;
  /** Seeds sampling so runs reproduce. */
  seed?: number;
  /** Generation stops when the decoded text ends with one of these; the text returned ends before it. */
  stop?: string[];
  /** Hugging Face's repetition_penalty: > 1 discourages tokens already in the sequence (1 = off). */
  repetitionPenalty?: number;
  /** Hugging Face's no_repeat_ngram_size: no n-gram of this size occurs twice (0 = off). */
  noRepeatNgramSize?: number;
  /** Hugging Face's min_new_tokens: end-of-sequence is not picked before this many tokens (0 = off). */
  minNewTokens?: number;
  /**
   * Hugging Face's bad_words_ids, as text: each string is encoded with the teacher's own
   * tokenizer (no special tokens), and a token that would complete its token sequence is banned.
   */
  badWords?: string[];
}

export interface GenerationRequest {
  prompt: string;
  options: GenerationOptions;
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface GenerationTimings {
  /** Time spent waiting for a worker. */
  queuedMs: number;
  prefillMs: number;
  decodeMs: number;
  totalMs: number;
}

export interface GenerationResult {
  text: string;
  promptTokens: number;
  generatedTokens: number;
  finishReason: FinishReason;
  timings: GenerationTimings;
  /**
   * Generated tokens that were speculative drafts the model confirmed (the engine's prompt
   * lookup); `generatedTokens - acceptedDrafts` model calls made them. Engines only.
   */
  acceptedDrafts?: number;
}

export interface GenerateCallOptions {
  /**
   * Run these requests in a batch of their own, joined by no other call's (retries use it,
   * so a prompt that fails its batch cannot fail other calls' prompts again). Default false.
   */
  isolated?: boolean;
}

/**
 * Something that turns prompts into text, a batch at a time. `generate` resolves with
 * one result per request, in order, or rejects with a TeacherlmError for the batch.
 */
export interface TextGenerator {
  /** Identifies the model in output records (e.g. the model folder's name). */
  readonly modelId: string;
  /** How many batches may run at once (one per engine worker). */
  readonly concurrency: number;
  /** Where it computes, for traces: `cpu` or `cuda` (an ONNX engine, once loaded), `remote` (a server). */
  readonly device?: string;
  /** Token count of a prompt as the model will see it, for token-budgeted batching. */
  countTokens(prompt: string): number;
  /**
   * Set when the generator batches continuously: calls (of any size, one prompt included)
   * join running batches at step boundaries, up to this many prompts in flight in all.
   */
  readonly continuousRows?: number;
  generate(requests: GenerationRequest[], call?: GenerateCallOptions): Promise<GenerationResult[]>;
  close(): Promise<void>;
}
