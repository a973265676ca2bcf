/**
 * Which schema registry to use, decided in one place: `SCHEMA_REGISTRY_URL` (a registry's
 * root or its Confluent-compatible API, e.g. http://10.0.0.5:8081 or
 * http://host:8080/apis/ccompat/v7) when set; else the local Apicurio Registry, started
 * on demand (TEACHERLM_REGISTRY_PORT picks its port).
 */
import { intArg, rejectOption } from '../options.js';
import { acquireLocalRegistry, DEFAULT_REGISTRY_PORT, type LocalRegistryOptions } from './local-registry.js';
import { CCOMPAT_PATH } from './local/paths.js';

export interface ResolvedRegistry {
  /** Base URL of the Confluent-compatible API (what clients call `schema.registry.url`). */
  url: string;
  source: 'env' | 'local';
  startedHere: boolean;
  /** Releases this call's lease on the local registry. Idempotent. */
  stop(): Promise<void>;
}

/** Parses SCHEMA_REGISTRY_URL: an http(s) URL; the message names the variable. */
export function parseRegistryUrl(value: string, field = 'SCHEMA_REGISTRY_URL'): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    rejectOption(field, 'an http(s) URL, e.g. http://127.0.0.1:18080/apis/ccompat/v7', value);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') rejectOption(field, 'an http(s) URL', value);
  return url.toString().replace(/\/+$/, '');
}

/** An Apicurio root gets its ccompat path; a URL with a path is taken as the API itself. */
function apiUrl(url: string): string {
  return new URL(url).pathname === '/' ? `${url}${CCOMPAT_PATH}` : url;
}

export async function resolveRegistry(
  options: { env?: NodeJS.ProcessEnv; local?: LocalRegistryOptions; log?: (line: string) => void } = {},
): Promise<ResolvedRegistry> {
  const env = options.env ?? process.env;
  if (env.SCHEMA_REGISTRY_URL !== undefined && env.SCHEMA_REGISTRY_URL.trim() !== '') {
    return { url: apiUrl(parseRegistryUrl(env.SCHEMA_REGISTRY_URL)), source: 'env', startedHere: false, stop: async () => {} };
  }
  const fromEnv = env.TEACHERLM_REGISTRY_PORT ? intArg('TEACHERLM_REGISTRY_PORT', env.TEACHERLM_REGISTRY_PORT, { min: 1024, max: 65534 }) : undefined;
  const port = options.local?.port ?? fromEnv ?? DEFAULT_REGISTRY_PORT;
  options.log?.(`using the local schema registry on 127.0.0.1:${port} (started on demand)`);
  const lease = await acquireLocalRegistry({ ...(options.log ? { log: options.log } : {}), ...options.local, port });
  let stopped: Promise<void> | undefined;
  return { url: `${lease.registry.url}${CCOMPAT_PATH}`, source: 'local', startedHere: lease.registry.startedHere, stop: () => (stopped ??= lease.release()) };
}
