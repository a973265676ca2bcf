/**
 * A thin client of the Confluent Schema Registry REST API (served by Apicurio at
 * /apis/ccompat/v7, and by Confluent's and Karapace's registries), over `fetch`.
 *
 * Why our own: `@kafkajs/confluent-schema-registry` >= 4.0.5 declares Node >= 22, and
 * `@confluentinc/schemaregistry` 1.10.1 installs 281 packages (171 MB: the AWS, Azure and
 * Google KMS SDKs for field encryption) for the four calls we make. Schema ids are cached
 * by the codecs, so a record costs no request.
 */
import { TeacherlmError } from '../errors.js';

export type Compatibility = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export interface RegistryClient {
  readonly url: string;
  /** Registers `schema` under `subject` (or finds it registered) and returns its global id. */
  register(subject: string, schema: object): Promise<number>;
  /** Sets the subject's compatibility level. */
  setCompatibility(subject: string, level: Compatibility): Promise<void>;
  /** The writer schema of a global id (cached: ids are immutable). */
  schemaById(id: number): Promise<string>;
}

/** The part of a registry's refusal that names what broke (Apicurio: `list of diff types: [d at /fields/1]`). */
function whatBroke(message: string): string {
  const diff = /list of diff types: \[(.*)\]/.exec(message);
  return diff ? `incompatible: ${diff[1]}` : message;
}

export function createRegistryClient(url: string, fetchImpl: typeof fetch = fetch): RegistryClient {
  const base = url.replace(/\/+$/, '');
  const byId = new Map<number, Promise<string>>();

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetchImpl(`${base}${path}`, {
        method,
        headers: { 'Content-Type': CONTENT_TYPE, Accept: CONTENT_TYPE },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new TeacherlmError('REGISTRY_UNREACHABLE', `schema registry at ${base} did not answer ${method} ${path}: ${(err as Error).message}`, {
        cause: err,
        hint: 'start one with `teacherlm registry start`, or set SCHEMA_REGISTRY_URL',
      });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      json = { message: text };
    }
    if (res.ok) return json;
    const message = String((json as { message?: unknown }).message ?? res.statusText);
    if (res.status >= 500) throw new TeacherlmError('REGISTRY_UNREACHABLE', `schema registry ${method} ${path} failed with ${res.status}: ${message}`);
    throw Object.assign(new TeacherlmError('SCHEMA_REFUSED', `${method} ${path}: ${res.status} ${message}`), { status: res.status, registryMessage: message });
  }

  return {
    url: base,
    async register(subject, schema) {
      const path = `/subjects/${encodeURIComponent(subject)}/versions`;
      try {
        const { id } = (await call('POST', path, { schemaType: 'AVRO', schema: JSON.stringify(schema) })) as { id: number };
        return id;
      } catch (err) {
        if (err instanceof TeacherlmError && err.code === 'SCHEMA_REFUSED') {
          const registryMessage = (err as TeacherlmError & { registryMessage: string }).registryMessage;
          throw new TeacherlmError('SCHEMA_REFUSED', `schema registry refused the schema for subject ${subject}: ${whatBroke(registryMessage)}`, {
            cause: err,
            hint: 'a new field needs a default, so readers of the old records still read them (BACKWARD); or write to a new topic',
          });
        }
        throw err;
      }
    },
    async setCompatibility(subject, level) {
      await call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
    },
    schemaById(id) {
      let schema = byId.get(id);
      if (!schema) {
        schema = (call('GET', `/schemas/ids/${id}`) as Promise<{ schema: string }>).then(
          (r) => r.schema,
          (err: unknown) => {
            // The registry answered that it has no such id: the record is bad, not the registry.
            if ((err as { status?: number }).status !== 404) throw err;
            throw new TeacherlmError('DECODE_FAILED', `schema id ${id} does not exist in the schema registry at ${base}`, { cause: err, detail: 'unknown-writer-schema' });
          },
        );
        schema.catch(() => byId.delete(id)); // a failed lookup is retried next time
        byId.set(id, schema);
      }
      return schema;
    },
  };
}
