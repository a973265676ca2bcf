import { describe, expect, it } from 'vitest';
import { IDENTITY_FIELD_MAP, parseFieldMap } from '../../src/records/field-map.js';
import { mapToSample } from '../../src/records/map-sample.js';

describe('mapToSample', () => {
  it('reads renamed fields through --map and accepts numeric ids', () => {
    const map = parseFieldMap('id=ex_id,task=task_name,question=q_text');
    expect(mapToSample({ ex_id: 7, task_name: 'CREAK', q_text: 'Q?', answer: '(A)', analysis: 'x' }, map, false)).toEqual({
      id: '7',
      task: 'CREAK',
      question: 'Q?',
      answer: '(A)',
      context: null,
      metadata: {},
    });
  });

  it('names the input field when a mapped field is invalid', () => {
    const map = parseFieldMap('question=q_text');
    expect(() => mapToSample({ id: '1', task: 't', answer: 'a' }, map, false)).toThrow(
      "question (read from 'q_text'): expected a non-empty string, got nothing",
    );
    expect(() => mapToSample({ id: '1', task: 't', question: 'q', answer: 'a', metadata: { n: 1 } }, IDENTITY_FIELD_MAP, false)).toThrow(
      'metadata.n: expected a string, got 1',
    );
  });

  it('treats CSV cells: empty context is none, metadata is a JSON cell', () => {
    const row = { id: '1', task: 't', question: 'q', answer: 'a', context: '', metadata: '{"src":"csv"}' };
    expect(mapToSample(row, IDENTITY_FIELD_MAP, true)).toMatchObject({ context: null, metadata: { src: 'csv' } });
    expect(() => mapToSample({ ...row, metadata: 'nope' }, IDENTITY_FIELD_MAP, true)).toThrow(/must hold a JSON object/);
  });
});
