/**
 * The machine's fp32 compute limit, measured in the bench's own run, so that a tokens/s
 * figure can be read as a share of what this CPU can do (the figures of two CPUs differ
 * by more than their engines do: 308.6 tokens/s at batch 64 on one Xeon, 198.5 on an
 * AMD EPYC with the same code). One MatMul with a constant weight, as the model's
 * linears are, run by onnxruntime-node (the engine's MLAS) on a large square shape (the
 * limit) and on the model's own MLP shape at a batch size (what a decode step's GEMMs
 * can reach there).
 *
 * The ONNX file is written here with protobufjs from the few ModelProto fields it needs
 * (onnx.proto3 field numbers), so the bench needs no Python.
 */
import protobuf from 'protobufjs';
import { median } from './telemetry-configs.js';

/** A Llama-family config.json's fields that set its matrix multiplies. */
export interface LlamaShape {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  vocab_size: number;
}

export interface FlopsPerToken {
  /** A generated token: every linear and the LM head. */
  generated: number;
  /** A prompt token: the linears only (the graph computes logits for the last position alone). */
  prompt: number;
}

/**
 * Floating-point operations per token in the weight matmuls (2 per multiply-add); the
 * attention's own products (scores and values, which grow with the context) are left
 * out, so a share of the limit from these figures leans low. SmolLM2-135M: 0.269 GFLOP
 * a generated token.
 */
export function llamaFlopsPerToken(config: LlamaShape): FlopsPerToken {
  const fields = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size'] as const;
  for (const f of fields) {
    if (!(Number.isInteger(config[f]) && config[f] > 0)) throw new Error(`config.json: ${f}: expected a positive integer, got ${JSON.stringify(config[f])}`);
  }
  const h = config.hidden_size;
  const headDim = config.head_dim ?? h / config.num_attention_heads;
  const kv = (config.num_key_value_heads ?? config.num_attention_heads) * headDim;
  const q = config.num_attention_heads * headDim;
  // q, k, v and o; gate, up and down.
  const perLayer = h * q + 2 * h * kv + q * h + 3 * h * config.intermediate_size;
  const linears = 2 * config.num_hidden_layers * perLayer;
  return { generated: linears + 2 * h * config.vocab_size, prompt: linears };
}

const ONNX = protobuf.Root.fromJSON({
  nested: {
    ModelProto: { fields: { ir_version: { type: 'int64', id: 1 }, graph: { type: 'GraphProto', id: 7 }, opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 } } },
    OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
    GraphProto: {
      fields: {
        node: { rule: 'repeated', type: 'NodeProto', id: 1 },
        name: { type: 'string', id: 2 },
        initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
        input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
        output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
      },
    },
    NodeProto: { fields: { input: { rule: 'repeated', type: 'string', id: 1 }, output: { rule: 'repeated', type: 'string', id: 2 }, op_type: { type: 'string', id: 4 } } },
    TensorProto: { fields: { dims: { rule: 'repeated', type: 'int64', id: 1 }, data_type: { type: 'int32', id: 2 }, name: { type: 'string', id: 8 }, raw_data: { type: 'bytes', id: 9 } } },
    ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
    TypeProto: { fields: { tensor_type: { type: 'TensorTypeProto', id: 1 } } },
    TensorTypeProto: { fields: { elem_type: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
    TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
    Dimension: { fields: { dim_value: { type: 'int64', id: 1 } } },
  },
});
const FLOAT = 1;

/** An ONNX model of one MatMul: input `a` [m, k] times a constant `b` [k, n] (row-major; default small random values). */
export function matmulModel(m: number, k: number, n: number, weights: Float32Array = randomValues(k * n)): Uint8Array {
  if (weights.length !== k * n) throw new Error(`weights: expected ${k * n} values for [${k}, ${n}], got ${weights.length}`);
  const info = (name: string, dims: number[]) => ({ name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } });
  const Model = ONNX.lookupType('ModelProto');
  const message = Model.fromObject({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: 'matmul',
      node: [{ input: ['a', 'b'], output: ['c'], op_type: 'MatMul' }],
      initializer: [{ name: 'b', dims: [k, n], data_type: FLOAT, raw_data: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength) }],
      input: [info('a', [m, k])],
      output: [info('c', [m, n])],
    },
  });
  return Model.encode(message).finish();
}

function randomValues(count: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = Math.random() - 0.5;
  return values;
}

export interface MatmulRate {
  shape: [number, number, number];
  threads: number;
  /** Median over rounds of 2·m·k·n per run over the run's wall time. */
  gflopsPerSec: number;
}

/** The part of onnxruntime-node this needs (the engine's own import, passed in). */
export interface OrtLike {
  InferenceSession: { create(model: Uint8Array, options: object): Promise<{ run(feeds: Record<string, unknown>): Promise<unknown>; release(): Promise<void> }> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

/** GFLOP/s of one [m, k] × [k, n] MatMul on `threads` intra-op threads: `rounds` timed rounds of at least `minMs` each, after a warm-up. */
export async function measureMatmul(ort: OrtLike, shape: [number, number, number], threads: number, options: { rounds?: number; minMs?: number } = {}): Promise<MatmulRate> {
  const [m, k, n] = shape;
  const session = await ort.InferenceSession.create(matmulModel(m, k, n), { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'] });
  try {
    const feeds = { a: new ort.Tensor('float32', randomValues(m * k), [m, k]) };
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const rates: number[] = [];
    for (let r = 0; r < (options.rounds ?? 5); r++) {
      const started = performance.now();
      let runs = 0;
      let elapsed = 0;
      do {
        await session.run(feeds);
        runs++;
        elapsed = performance.now() - started;
      } while (elapsed < (options.minMs ?? 200));
      rates.push((2 * m * k * n * runs) / (elapsed / 1000) / 1e9);
    }
    return { shape, threads, gflopsPerSec: Math.round(median(rates) * 10) / 10 };
  } finally {
    await session.release();
  }
}
