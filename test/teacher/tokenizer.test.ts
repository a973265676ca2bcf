import { describe, expect, it } from 'vitest';
import { leftPad, ModelTokenizer } from '../../src/teacher/tokenizer.js';
import { loadModelFiles } from '../../src/teacher/model-files.js';
import { modelDir } from './support/models.js';

const llama = loadModelFiles(modelDir('tiny-llama'));
const bloom = loadModelFiles(modelDir('tiny-bloom'));

describe('ModelTokenizer', () => {
  it('takes special tokens from the config files', () => {
    const t = new ModelTokenizer(llama);
    expect(t.special.bosId).toBe(1);
    expect(t.special.eosIds).toEqual(expect.arrayContaining([2]));
    expect(t.special.padId).toBe(0); // pad_token <unk>
    expect(new ModelTokenizer(bloom).special.padId).toBe(3);
  });

  it('adds BOS as tokenizer_config says, never twice', () => {
    const t = new ModelTokenizer(llama);
    expect(t.encode('Q: soup')[0]).toBe(1);
    expect(t.encode('<s>Q: soup')).toEqual(t.encode('Q: soup'));
    const off = new ModelTokenizer({ ...llama, tokenizerConfig: { ...llama.tokenizerConfig, add_bos_token: false } });
    expect(off.encode('Q: soup')[0]).not.toBe(1);
    expect(off.encode('Q: soup')).toEqual(t.encode('Q: soup').slice(1));
    const b = new ModelTokenizer(bloom);
    expect(b.encode('Q: soup')[0]).not.toBe(b.special.bosId);
  });

  it('round-trips text and drops special tokens when decoding', () => {
    const t = new ModelTokenizer(llama);
    const ids = t.encode('The answer is (B).');
    expect(t.decode(ids)).toBe('The answer is (B).');
    expect(t.decode([...ids, 2])).toBe('The answer is (B).');
    expect(t.countTokens('The answer is (B).')).toBe(ids.length);
  });

  it('left-pads a batch with the pad id and a zero mask', () => {
    const batch = leftPad([[5, 6, 7], [8]], 0);
    expect(batch.width).toBe(3);
    expect(Array.from(batch.inputIds, Number)).toEqual([5, 6, 7, 0, 0, 8]);
    expect(Array.from(batch.attentionMask, Number)).toEqual([1, 1, 1, 0, 0, 1]);
    expect(batch.lengths).toEqual([3, 1]);
    const t = new ModelTokenizer(bloom);
    const enc = leftPad([t.encode('a b c d e f'), t.encode('a')], t.special.padId);
    expect(enc.inputIds[enc.width]).toBe(3n);
  });
});
