import { describe, expect, it } from 'vitest';
import { parseHeap, parsePort } from '../../src/cli/kafka-command.js';

describe('teacherlm kafka options', () => {
  it('names the flag the user typed', () => {
    expect(() => parseHeap('abc')).toThrow('--heap: expected an integer >= 128, got "abc"');
    expect(() => parseHeap('64')).toThrow('--heap: expected an integer >= 128, got "64"');
    expect(() => parsePort('80')).toThrow('--port: expected an integer from 1024 to 65534, got "80"');
  });

  it('reads good values', () => {
    expect(parseHeap('768')).toBe(768);
    expect(parseHeap(undefined)).toBeUndefined();
    expect(parsePort('19092')).toBe(19092);
  });
});
