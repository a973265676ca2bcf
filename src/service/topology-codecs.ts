/**
 * The codecs a topology's formats call for. With `format: confluent` on the input or the
 * output, the schemas are registered at start (subjects `<topic>-value`, BACKWARD), so an
 * incompatible schema stops the start with the registry's reason instead of failing
 * records later, and every record then costs no registry request.
 */
import { ConfluentCodec, valueSubject } from '../records/confluent-codec.js';
import { recordCodecs, type PipelineCodecs } from '../records/codecs.js';
import { OutputReader } from '../records/output-reader.js';
import type { AugmentedSample, DeadLetter, RawSample } from '../records/types.js';
import type { Topology } from '../pipeline/topology.js';
import { createRegistryClient, type RegistryClient } from '../registry/client.js';
import { resolveRegistry } from '../registry/resolve-registry.js';

export function needsRegistry(topology: Pick<Topology, 'input' | 'output'>): boolean {
  return topology.input.format === 'confluent' || topology.output.format === 'confluent';
}

export async function topologyCodecs(topology: Pick<Topology, 'input' | 'output' | 'deadLetter'>, registry?: RegistryClient): Promise<PipelineCodecs> {
  const avro = recordCodecs();
  if (!registry || !needsRegistry(topology)) return avro;
  const codecs: PipelineCodecs = { ...avro };
  if (topology.input.format === 'confluent' || topology.input.format === 'auto') {
    codecs.confluentRawSample = await ConfluentCodec.register<RawSample>(registry, valueSubject(topology.input.topic), avro.rawSample.type);
  }
  if (topology.output.format === 'confluent') {
    codecs.augmentedSample = await ConfluentCodec.register<AugmentedSample>(registry, valueSubject(topology.output.topic), avro.augmentedSample.type);
    codecs.deadLetter = await ConfluentCodec.register<DeadLetter>(registry, valueSubject(topology.deadLetter.topic), avro.deadLetter.type);
  }
  return codecs;
}

export interface OpenedCodecs {
  codecs: PipelineCodecs;
  /** Reads what these codecs write (and single-object records). */
  reader: OutputReader;
  /** The Confluent-compatible API used, when the topology needs one. */
  registryUrl?: string;
  /** Releases the registry lease (stops an on-demand local registry with its last user). */
  close(): Promise<void>;
}

/** Resolves the registry (SCHEMA_REGISTRY_URL, else the local one on demand) when the topology needs it, then builds its codecs. */
export async function openTopologyCodecs(topology: Topology, log: (line: string) => void = () => {}): Promise<OpenedCodecs> {
  if (!needsRegistry(topology)) return { codecs: recordCodecs(), reader: new OutputReader(), close: async () => {} };
  const resolved = await resolveRegistry({ log });
  try {
    const client = createRegistryClient(resolved.url);
    const codecs = await topologyCodecs(topology, client);
    return { codecs, reader: new OutputReader(client), registryUrl: resolved.url, close: resolved.stop };
  } catch (err) {
    await resolved.stop();
    throw err;
  }
}

/**
 * A reader of the output topics: with the registry when the topology writes `confluent`
 * or SCHEMA_REGISTRY_URL is set, else for single-object records only.
 */
export async function openOutputReader(topology: Topology | undefined, log: (line: string) => void = () => {}): Promise<{ reader: OutputReader; close(): Promise<void> }> {
  const wanted = (topology !== undefined && needsRegistry(topology)) || Boolean(process.env.SCHEMA_REGISTRY_URL?.trim());
  if (!wanted) return { reader: new OutputReader(), close: async () => {} };
  const resolved = await resolveRegistry({ log });
  return { reader: new OutputReader(createRegistryClient(resolved.url)), close: resolved.stop };
}
