/**
 * BOS / EOS / PAD ids from a model's config files. Hugging Face spreads them over
 * config.json, generation_config.json and tokenizer_config.json; generation settings
 * win for EOS (several ids are common), the tokenizer config for the tokens' text.
 */
import type { Tokenizer } from '@huggingface/tokenizers';
import { tokenContent } from './chat-template.js';
import type { ModelFiles } from './model-files.js';

export interface SpecialTokens {
  bosId: number | undefined;
  /** Any of these ends a sequence. */
  eosIds: number[];
  /** Fills left padding; never attended to. */
  padId: number;
  /** tokenizer_config.json `add_bos_token`; undefined means "as tokenizer.json's post-processor does". */
  addBos: boolean | undefined;
  bosText: string | undefined;
}

function ids(value: unknown): number[] {
  if (typeof value === 'number' && Number.isInteger(value)) return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v));
  return [];
}

export function resolveSpecialTokens(files: Pick<ModelFiles, 'config' | 'generationConfig' | 'tokenizerConfig'>, tokenizer: Tokenizer): SpecialTokens {
  const { config, generationConfig, tokenizerConfig } = files;
  const idOf = (key: string): number | undefined => {
    const text = tokenContent(tokenizerConfig[key]);
    return text === undefined ? undefined : tokenizer.token_to_id(text);
  };
  const bosText = tokenContent(tokenizerConfig.bos_token);
  const bosId = ids(generationConfig.bos_token_id)[0] ?? ids(config.bos_token_id)[0] ?? idOf('bos_token');
  const eos = new Set<number>([...ids(generationConfig.eos_token_id), ...ids(config.eos_token_id)]);
  const eosFromTokenizer = idOf('eos_token');
  if (eos.size === 0 && eosFromTokenizer !== undefined) eos.add(eosFromTokenizer);
  const eosIds = [...eos];
  const padId = idOf('pad_token') ?? ids(generationConfig.pad_token_id)[0] ?? ids(config.pad_token_id)[0] ?? eosIds[0] ?? 0;
  const addBos = typeof tokenizerConfig.add_bos_token === 'boolean' ? tokenizerConfig.add_bos_token : undefined;
  return { bosId, eosIds, padId, addBos, bosText };
}
