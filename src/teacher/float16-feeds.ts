/**
 * float16 inputs for onnxruntime-node. Its binding reads float16 data from a Uint16Array
 * only, but onnxruntime-common stores a float16 tensor's data in a Float16Array wherever
 * the runtime has one (Node 24+; a Uint16Array given to the constructor is converted), so
 * there every float16 feed fails with "not enough space: expected N, got 0"
 * (microsoft/onnxruntime#32323). Viewing the data as its bits again, as transformers.js
 * does, works on every Node version.
 */
import type { Tensor } from 'onnxruntime-node';

/** Gives each float16 feed Uint16Array data (the same memory); returns `feeds`. */
export function withFloat16Bits<T extends Record<string, Tensor>>(feeds: T): T {
  for (const tensor of Object.values(feeds)) {
    if (tensor.type !== 'float16' || tensor.location !== 'cpu') continue;
    const data = tensor.data as ArrayBufferView & { length: number };
    if (!(data instanceof Uint16Array)) {
      (tensor as unknown as { cpuData: Uint16Array }).cpuData = new Uint16Array(data.buffer, data.byteOffset, data.length);
    }
  }
  return feeds;
}
