/**
 * The model's own chat template (tokenizer_config.json `chat_template`), compiled once
 * with @huggingface/jinja and rendered the way transformers' `apply_chat_template` does.
 */
import { Template } from '@huggingface/jinja';
import { TeacherlmError } from '../errors.js';

export interface ChatTemplate {
  /**
   * Renders `content` as the single user turn (after a system turn when `system` is
   * given), followed by the assistant generation prompt.
   */
  render(content: string, system?: string): string;
}

/** Special-token variables templates refer to (`bos_token`, `eos_token`...). */
const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'] as const;

/** A token in tokenizer_config.json is a string or an AddedToken object `{content: ...}`. */
export function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/** Picks the template source: a string, or the entry named `default` of a list of named templates. */
function templateSource(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (Array.isArray(raw)) {
    const entry = raw.find((t: { name?: unknown }) => t && t.name === 'default') as { template?: unknown } | undefined;
    if (entry && typeof entry.template === 'string') return entry.template;
  }
  return undefined;
}

/**
 * Compiles the chat template of a tokenizer config, or returns undefined when it has none.
 * Throws MODEL_INVALID when the template does not parse.
 */
export function createChatTemplate(tokenizerConfig: Record<string, unknown>): ChatTemplate | undefined {
  const source = templateSource(tokenizerConfig.chat_template);
  if (source === undefined) return undefined;
  let compiled: Template;
  try {
    compiled = new Template(source);
  } catch (err) {
    throw new TeacherlmError('MODEL_INVALID', `chat_template does not parse: ${(err as Error).message}`, { cause: err });
  }
  const specials: Record<string, string> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const value = tokenContent(tokenizerConfig[key]);
    if (value !== undefined) specials[key] = value;
  }
  return {
    render(content: string, system?: string): string {
      try {
        return compiled.render({
          messages: [...(system === undefined ? [] : [{ role: 'system', content: system }]), { role: 'user', content }],
          add_generation_prompt: true,
          ...specials,
        });
      } catch (err) {
        // Templates can `raise_exception(...)`; jinja throws a plain Error for it.
        throw new TeacherlmError('MODEL_INVALID', `chat_template failed to render: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
