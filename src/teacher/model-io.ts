/**
 * What a decoder-only ONNX model expects and returns, read from the session's metadata.
 * Two cache layouts:
 * - `optimum` (Hugging Face Optimum exports): `input_ids`, `attention_mask`, optional
 *   `position_ids`, `past_key_values.{i}.key|value` in; `logits`, `present.{i}.key|value`
 *   out, present = past plus the new positions (a new, longer tensor every step);
 * - `buffered` (our importer's fast files): the same inputs, but `past_key_values.*` is a
 *   buffer the engine keeps, longer than the mask's real columns, and the outputs are only
 *   what is new: `logits` for the last positions (one, or as many as the `logits_to_keep` input
 *   asks where the graph has it: speculative decoding's check of drafts) and
 *   `new_key_values.{i}.key|value` for the new positions, which the engine writes into its
 *   buffer. No step copies the cache.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { TeacherlmError } from '../errors.js';

export type KvType = 'float32' | 'float16';
export type CacheLayout = 'optimum' | 'buffered';

export interface CacheLayer {
  pastKey: string;
  pastValue: string;
  /** The output that holds this layer's keys / values after a run: `present.*`, or `new_key_values.*` (buffered). */
  presentKey: string;
  presentValue: string;
}

export interface ModelIO {
  cacheLayout: CacheLayout;
  hasPositionIds: boolean;
  /** Older merged Optimum decoders switch their cache branch with this boolean input. */
  hasUseCacheBranch: boolean;
  /** Newer exports can skip computing logits for all but the last positions. */
  logitsToKeepInput: string | undefined;
  layers: CacheLayer[];
  kvType: KvType;
  /** Shape of an empty cache tensor for one row: [kvHeads, 0, headDim]. */
  kvHeads: number;
  headDim: number;
  logitsType: KvType;
  /**
   * Most tokens (prompt plus generated) the model's positions cover, from config.json
   * (`max_position_embeddings`, `n_positions`); undefined when it states none (ALiBi).
   */
  maxPositions: number | undefined;
}

type Metadata = readonly InferenceSession.ValueMetadata[];

function find(meta: Metadata, name: string): InferenceSession.ValueMetadata | undefined {
  return meta.find((m) => m.name === name);
}

function configNumber(config: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) if (typeof config[k] === 'number') return config[k] as number;
  return undefined;
}

export function describeModel(inputs: Metadata, outputs: Metadata, config: Record<string, unknown>): ModelIO {
  // The fast layout is chosen by its output names.
  const cacheLayout: CacheLayout = find(outputs, 'new_key_values.0.key') ? 'buffered' : 'optimum';
  const present = cacheLayout === 'buffered' ? 'new_key_values' : 'present';
  const missing = ['input_ids', 'attention_mask'].filter((n) => !find(inputs, n));
  if (!find(outputs, 'logits')) missing.push('logits (output)');
  if (missing.length > 0) {
    throw new TeacherlmError('MODEL_INVALID', `the ONNX model lacks ${missing.join(', ')}; expected an Optimum decoder export`);
  }
  const layers: CacheLayer[] = [];
  for (let i = 0; find(inputs, `past_key_values.${i}.key`); i++) {
    const layer = {
      pastKey: `past_key_values.${i}.key`,
      pastValue: `past_key_values.${i}.value`,
      presentKey: `${present}.${i}.key`,
      presentValue: `${present}.${i}.value`,
    };
    if (!find(inputs, layer.pastValue) || !find(outputs, layer.presentKey) || !find(outputs, layer.presentValue)) {
      throw new TeacherlmError('MODEL_INVALID', `layer ${i} of the KV cache is incomplete (past_key_values.${i}.* / ${present}.${i}.*)`);
    }
    layers.push(layer);
  }
  if (layers.length === 0) {
    throw new TeacherlmError('MODEL_INVALID', 'the ONNX model has no past_key_values inputs', {
      hint: 'export with `optimum-cli export onnx --task text-generation-with-past`',
    });
  }
  const past = find(inputs, layers[0]!.pastKey)!;
  const kvType = tensorType(past, 'past_key_values');
  const shape = past.isTensor ? past.shape : [];
  if (shape.length !== 4) {
    throw new TeacherlmError('MODEL_INVALID', `past_key_values must be [batch, kv_heads, seq, head_dim], got [${shape.join(', ')}]`, {
      hint: 'export with a recent Optimum (BLOOM included) so the cache uses the 4-D layout',
    });
  }
  const heads = configNumber(config, 'num_attention_heads', 'n_head');
  const kvHeads = typeof shape[1] === 'number' ? shape[1] : configNumber(config, 'num_key_value_heads', 'n_head_kv') ?? heads;
  const hidden = configNumber(config, 'hidden_size', 'n_embd');
  const headDim =
    typeof shape[3] === 'number' ? shape[3] : configNumber(config, 'head_dim') ?? (hidden && heads ? hidden / heads : undefined);
  if (!kvHeads || !headDim || !Number.isInteger(headDim)) {
    throw new TeacherlmError('MODEL_INVALID', 'cannot tell the KV cache heads / head_dim from the model or config.json');
  }
  const logitsToKeepInput = ['logits_to_keep', 'num_logits_to_keep'].find((n) => find(inputs, n));
  return {
    cacheLayout,
    hasPositionIds: find(inputs, 'position_ids') !== undefined,
    hasUseCacheBranch: find(inputs, 'use_cache_branch') !== undefined,
    logitsToKeepInput,
    layers,
    kvType,
    kvHeads,
    headDim,
    logitsType: tensorType(find(outputs, 'logits')!, 'logits'),
    maxPositions: configNumber(config, 'max_position_embeddings', 'n_positions'),
  };
}

function tensorType(meta: InferenceSession.ValueMetadata, what: string): KvType {
  if (!meta.isTensor) throw new TeacherlmError('MODEL_INVALID', `${what} is not a tensor`);
  if (meta.type !== 'float32' && meta.type !== 'float16') {
    throw new TeacherlmError('MODEL_INVALID', `${what} has type ${meta.type}; float32 or float16 expected`);
  }
  return meta.type;
}
