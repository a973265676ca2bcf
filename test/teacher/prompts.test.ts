import { describe, expect, it } from 'vitest';
import { buildPrompt, buildRawPrompt, cleanWhitespace, extractAnnotation, TRIGGERS } from '../../src/teacher/prompts.js';
import { createChatTemplate } from '../../src/teacher/chat-template.js';
import { isTeacherlmError } from '../../src/errors.js';

const sample = { id: '1', task: 'CREAK', question: 'Determine it. Soup is solid. (A) True (B) False', answer: '(B)' };

describe('cleanWhitespace', () => {
  it('does one non-overlapping pass of replace("  ", " ") like Python', () => {
    expect(cleanWhitespace('a  b')).toBe('a b');
    expect(cleanWhitespace('a   b')).toBe('a  b');
    expect(cleanWhitespace('a    b')).toBe('a  b');
    expect(cleanWhitespace('a     b')).toBe('a   b');
  });
  it('strips trailing spaces only', () => {
    expect(cleanWhitespace('  a b   ')).toBe(' a b');
    expect(cleanWhitespace('a\t')).toBe('a\t');
  });
});

describe('buildPrompt', () => {
  it('builds the three TeacherLM prompts', () => {
    const stem = 'Q: Determine it. Soup is solid. (A) True (B) False A: The answer is (B).';
    expect(buildPrompt(sample, 'cot')).toBe(`${stem} Let's think step by step.`);
    expect(buildPrompt(sample, 'mistakes')).toBe(`${stem} The common mistakes are:`);
    expect(buildPrompt(sample, 'fundamentals')).toBe(`${stem} The fundamental of this question is:`);
  });
  it('applies the clean-up to the whole prompt', () => {
    expect(buildRawPrompt({ question: 'Is it   odd?  ', answer: '(A)' }, 'cot')).toBe("Q: Is it  odd?  A: The answer is (A). Let's think step by step.");
  });
  it('puts a context before the question', () => {
    expect(buildRawPrompt({ question: 'Who?', answer: 'Bo', context: 'Bo ran.' }, 'cot')).toBe(
      "Q: Bo ran. Who? A: The answer is Bo. Let's think step by step.",
    );
  });
  it('renders the chat style through the model chat template', () => {
    const template = createChatTemplate({
      bos_token: '<s>',
      chat_template:
        "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
    });
    expect(buildPrompt(sample, 'mistakes', 'chat', template)).toBe(`<s><|user|>${buildRawPrompt(sample, 'mistakes')}</s><|assistant|>`);
  });
  it('wraps the reference prompt in task instructions for a chat teacher, and refuses them for the raw style', () => {
    const template = createChatTemplate({
      bos_token: '<s>',
      chat_template:
        "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
    });
    const raw = buildRawPrompt(sample, 'cot');
    expect(buildPrompt(sample, 'cot', 'chat', template, { system: 'Explain.', user: 'Task:\n{prompt}\nGo.' })).toBe(
      `<s><|system|>Explain.</s><|user|>Task:\n${raw}\nGo.</s><|assistant|>`,
    );
    expect(buildPrompt(sample, 'cot', 'chat', template, { system: 'Explain.' })).toBe(`<s><|system|>Explain.</s><|user|>${raw}</s><|assistant|>`);
    expect(() => buildPrompt(sample, 'cot', 'raw', undefined, { system: 'Explain.' })).toThrow(/^instructions: expected the 'chat' prompt style/);
  });
  it('refuses the chat style without a template, naming the option', () => {
    try {
      buildPrompt(sample, 'cot', 'chat');
      expect.unreachable();
    } catch (err) {
      expect(isTeacherlmError(err, 'INVALID_OPTIONS')).toBe(true);
      expect((err as Error).message).toContain('promptStyle');
    }
  });
  it('reads a template from a list of named templates, and none when absent', () => {
    const t = createChatTemplate({ chat_template: [{ name: 'default', template: '[{{ messages[0].content }}]' }] });
    expect(t?.render('x')).toBe('[x]');
    expect(createChatTemplate({})).toBeUndefined();
  });
  it('turns a template that raises into MODEL_INVALID', () => {
    const t = createChatTemplate({ chat_template: "{{ raise_exception('only system turns') }}" });
    let caught: unknown;
    try {
      t!.render('x');
    } catch (err) {
      caught = err;
    }
    expect(isTeacherlmError(caught) && caught.code).toBe('MODEL_INVALID');
    expect((caught as Error).message).toContain('only system turns');
  });
});

describe('extractAnnotation', () => {
  it('takes the raw continuation after the trigger, trimmed', () => {
    expect(extractAnnotation('cot', ' Soup is liquid. \n')).toBe('Soup is liquid.');
  });
  it('takes the text after an echoed trigger in a chat reply, or the whole reply', () => {
    expect(extractAnnotation('mistakes', `${TRIGGERS.mistakes} confusing soup with stew.`, 'chat')).toBe('confusing soup with stew.');
    expect(extractAnnotation('mistakes', 'A: The answer is (B). The common mistakes are:\n1. Soup.', 'chat')).toBe('1. Soup.');
    expect(extractAnnotation('fundamentals', 'the fundamental of this question is: soup', 'chat')).toBe('soup');
    expect(extractAnnotation('mistakes', 'People confuse soup.', 'chat')).toBe('People confuse soup.');
    // Raw continuations are taken whole: the trigger is already in the prompt.
    expect(extractAnnotation('mistakes', ' x. The common mistakes are: y', 'raw')).toBe('x. The common mistakes are: y');
  });
});
