/**
 * Vitest global setup of the `integration` project: resolves the schema registry once
 * per run (SCHEMA_REGISTRY_URL, else the local Apicurio Registry started on demand),
 * provides its Confluent-compatible URL to tests, and releases only what it holds.
 */
import type { TestProject } from 'vitest/node';
import { resolveRegistry, type ResolvedRegistry } from '../../src/registry/resolve-registry.js';

let resolved: ResolvedRegistry | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const began = Date.now();
  resolved = await resolveRegistry({ log: (line) => console.error(`[registry] ${line}`) });
  const how = resolved.startedHere ? `started in ${((Date.now() - began) / 1000).toFixed(1)} s` : 'already running';
  console.error(`[registry] ${resolved.source} registry at ${resolved.url} (${how})`);
  project.provide('schemaRegistryUrl', resolved.url);
  return async () => {
    await resolved?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    schemaRegistryUrl: string;
  }
}
