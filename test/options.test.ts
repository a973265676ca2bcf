import { describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../src/errors.js';
import { choiceOption, expectedError, intArg, intOption, integerWords, nonEmptyString, numberArg, rejectOption } from '../src/options.js';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isTeacherlmError(err, 'INVALID_OPTIONS')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}

describe('options', () => {
  it('words integer ranges one way', () => {
    expect(integerWords({})).toBe('a positive integer');
    expect(integerWords({ min: 0 })).toBe('a non-negative integer');
    expect(integerWords({ min: 128 })).toBe('an integer >= 128');
    expect(integerWords({ max: 64 })).toBe('an integer from 1 to 64');
  });

  it('checks numbers given as numbers, with the fallback for undefined', () => {
    expect(intOption('workers', undefined, 3)).toBe(3);
    expect(intOption('workers', 4, 3, { max: 64 })).toBe(4);
    expect(message(() => intOption('workers', 65, 1, { max: 64 }))).toBe('workers: expected an integer from 1 to 64, got 65');
    expect(message(() => intOption('retries', 1.5, 1))).toBe('retries: expected a positive integer, got 1.5');
    expect(message(() => intOption('retries', '2', 1))).toBe('retries: expected a positive integer, got "2"');
  });

  it('checks numbers typed as text in the same words', () => {
    expect(intArg('--max', undefined)).toBeUndefined();
    expect(intArg('--until-idle', '0', { min: 0 })).toBe(0);
    expect(message(() => intArg('--max', '0'))).toBe('--max: expected a positive integer, got "0"');
    expect(message(() => intArg('--max', '1e3'))).toBe('--max: expected a positive integer, got "1e3"');
    expect(numberArg('--top-p', '0.9', 0, 1)).toBe(0.9);
    expect(message(() => numberArg('--top-p', '', 0, 1))).toBe('--top-p: expected a number from 0 to 1, got ""');
  });

  it('checks choices by own name only, and strings', () => {
    expect(choiceOption('device', undefined, ['cpu', 'cuda'], 'cpu')).toBe('cpu');
    expect(message(() => choiceOption('device', 'toString', ['cpu', 'cuda']))).toBe('device: expected one of cpu, cuda, got "toString"');
    expect(message(() => nonEmptyString('groupId', ' '))).toBe('groupId: expected a non-empty string, got " "');
  });

  it('has one message shape, with or without the value', () => {
    expect(message(() => rejectOption('log', 'a function', 7))).toBe('log: expected a function, got 7');
    expect(expectedError('INVALID_TOPOLOGY', 'batching', 'a mapping').message).toBe('batching: expected a mapping');
    expect(expectedError('INVALID_SAMPLE', 'metadata', 'an object of strings', [1]).message).toBe('metadata: expected an object of strings, got an array');
  });
});
