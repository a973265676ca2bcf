/**
 * Vitest global setup of the `integration` project: resolves the schema registry once
 * per run (SCHEMA_REGISTRY_URL, else the local Apicurio Registry started on demand),
 * provides its Confluent-compatible URL to tests, and releases only what it holds.
 * Where the local registry cannot start for want of a tool (Java 21+, Maven), it provides
 * the reason instead, and the registry's tests skip (or fail under CI) with it, while every
 * other integration test runs.
 */
import type { TestProject } from 'vitest/node';
import { isTeacherlmError } from '../../src/errors.js';
import { resolveRegistry, type ResolvedRegistry } from '../../src/registry/resolve-registry.js';

let resolved: ResolvedRegistry | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const began = Date.now();
  try {
    resolved = await resolveRegistry({ log: (line) => console.error(`[registry] ${line}`) });
  } catch (err) {
    if (!isTeacherlmError(err, 'TOOL_FAILED')) throw err;
    const reason = `${err.message}${err.hint ? ` (${err.hint})` : ''}`;
    console.error(`[registry] not available: ${reason}`);
    project.provide('schemaRegistryUrl', '');
    project.provide('schemaRegistryMissing', reason);
    return async () => {};
  }
  const how = resolved.startedHere ? `started in ${((Date.now() - began) / 1000).toFixed(1)} s` : 'already running';
  console.error(`[registry] ${resolved.source} registry at ${resolved.url} (${how})`);
  project.provide('schemaRegistryUrl', resolved.url);
  project.provide('schemaRegistryMissing', '');
  return async () => {
    await resolved?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    schemaRegistryUrl: string;
    /** Why no registry could be started ('' when there is one). */
    schemaRegistryMissing: string;
  }
}
