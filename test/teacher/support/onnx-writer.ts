/**
 * Writes small ONNX models for tests that need a model of a given interface: each output
 * is an Identity of an input of the same type (`<output>.src`). Protobuf is written by
 * hand (the few ModelProto fields used), so tests need no Python or ONNX package.
 */

export type ElemType = 'float32' | 'float16' | 'float64' | 'int64';
/** A tensor of `elem` with these dims (a string is a named, symbolic dimension), or a sequence of such tensors. */
export interface ValueType {
  elem: ElemType;
  dims: (number | string)[];
  sequence?: boolean;
}
export type Interface = Record<string, ValueType>;

const ELEM: Record<ElemType, number> = { float32: 1, int64: 7, float16: 10, float64: 11 };

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const intField = (field: number, n: number): number[] => [...varint(field << 3), ...varint(n)];
const bytesField = (field: number, bytes: number[]): number[] => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
const stringField = (field: number, s: string): number[] => bytesField(field, [...Buffer.from(s, 'utf8')]);

function tensorType({ elem, dims }: ValueType): number[] {
  const shape = dims.flatMap((d) => bytesField(1, typeof d === 'number' ? intField(1, d) : stringField(2, d)));
  return [...intField(1, ELEM[elem]), ...bytesField(2, shape)];
}

function typeProto(type: ValueType): number[] {
  const tensor = bytesField(1, tensorType(type));
  return type.sequence ? bytesField(4, bytesField(1, tensor)) : tensor;
}

const valueInfo = (name: string, type: ValueType): number[] => [...stringField(1, name), ...bytesField(2, typeProto(type))];

/** An ONNX model (opset 17) with these inputs and outputs. */
export function onnxModel(inputs: Interface, outputs: Interface): Buffer {
  const graph: number[] = [];
  for (const name of Object.keys(outputs)) {
    graph.push(...bytesField(1, [...stringField(1, `${name}.src`), ...stringField(2, name), ...stringField(3, `make ${name}`), ...stringField(4, 'Identity')]));
  }
  graph.push(...stringField(2, 'test'));
  for (const [name, type] of Object.entries(inputs)) graph.push(...bytesField(11, valueInfo(name, type)));
  for (const [name, type] of Object.entries(outputs)) graph.push(...bytesField(11, valueInfo(`${name}.src`, type)));
  for (const [name, type] of Object.entries(outputs)) graph.push(...bytesField(12, valueInfo(name, type)));
  const model = [...intField(1, 8), ...stringField(2, 'teacherlm-tests'), ...bytesField(7, graph), ...bytesField(8, intField(2, 17))];
  return Buffer.from(model);
}
