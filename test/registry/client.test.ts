import { describe, expect, it } from 'vitest';
import { createRegistryClient } from '../../src/registry/client.js';
import { isTeacherlmError, type TeacherlmError } from '../../src/errors.js';

/** fetch at its interface: answers by method and path, records the calls. */
function fakeFetch(answer: (method: string, path: string, body: unknown) => { status: number; body: unknown }) {
  const calls: string[] = [];
  const impl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url.pathname}`);
    const { status, body } = answer(method, url.pathname, init?.body ? JSON.parse(String(init.body)) : undefined);
    return new Response(JSON.stringify(body), { status });
  }) as typeof fetch;
  return { impl, calls };
}

async function caught(p: Promise<unknown>): Promise<TeacherlmError> {
  try {
    await p;
  } catch (err) {
    return err as TeacherlmError;
  }
  throw new Error('expected a rejection');
}

describe('registry client', () => {
  it('registers an Avro schema under its subject and caches schemas by id', async () => {
    const { impl, calls } = fakeFetch((method, path, body) => {
      if (method === 'POST') return { status: 200, body: { id: 42, echo: body } };
      return { status: 200, body: { schema: '"string"' } };
    });
    const client = createRegistryClient('http://r:1/apis/ccompat/v7/', impl);
    expect(await client.register('t-value', { type: 'string' })).toBe(42);
    expect(await client.schemaById(42)).toBe('"string"');
    expect(await client.schemaById(42)).toBe('"string"');
    expect(calls).toEqual(['POST /apis/ccompat/v7/subjects/t-value/versions', 'GET /apis/ccompat/v7/schemas/ids/42']);
  });

  it('names the subject and the field when a schema is refused', async () => {
    const message = 'io.apicurio.registry.rules.violation.RuleViolationException: Incompatible artifact: t-value [AVRO], num of incompatible diffs: {1}, list of diff types: [d at /fields/1]';
    const { impl } = fakeFetch(() => ({ status: 409, body: { message, error_code: 409 } }));
    const err = await caught(createRegistryClient('http://r:1', impl).register('t-value', { type: 'string' }));
    expect(isTeacherlmError(err, 'SCHEMA_REFUSED')).toBe(true);
    expect(err.message).toBe('schema registry refused the schema for subject t-value: incompatible: d at /fields/1');
  });

  it('reports an unreachable registry as retriable', async () => {
    const impl = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const err = await caught(createRegistryClient('http://127.0.0.1:1', impl).schemaById(1));
    expect(isTeacherlmError(err, 'REGISTRY_UNREACHABLE')).toBe(true);
    expect(err.retriable).toBe(true);
  });

  it('reports a schema id the registry does not have as a decode failure, not an outage', async () => {
    const { impl } = fakeFetch(() => ({ status: 404, body: { message: 'No content with id: 77', error_code: 40403 } }));
    const err = await caught(createRegistryClient('http://r:1', impl).schemaById(77));
    expect(isTeacherlmError(err, 'DECODE_FAILED')).toBe(true);
    expect(err.retriable).toBe(false);
    expect(err.message).toBe('schema id 77 does not exist in the schema registry at http://r:1');
  });
});
