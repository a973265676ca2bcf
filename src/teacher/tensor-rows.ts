/** Row (batch dimension) operations on flat tensor data, used when finished rows leave a batch. */

export type TypedArray = Float32Array | Uint16Array | BigInt64Array | Int32Array;

/**
 * Copies rows `keep` (ascending indices into the first dimension) of a tensor with
 * `rows` rows into a new array of the same type. Runs of adjacent rows copy in one go.
 */
export function gatherRows<T extends TypedArray>(data: T, rows: number, keep: readonly number[]): T {
  const rowSize = data.length / rows;
  const out = new (data.constructor as new (n: number) => T)(keep.length * rowSize);
  let i = 0;
  while (i < keep.length) {
    let j = i;
    while (j + 1 < keep.length && keep[j + 1] === keep[j]! + 1) j++;
    const from = keep[i]! * rowSize;
    (out as Float32Array).set((data as Float32Array).subarray(from, (keep[j]! + 1) * rowSize), i * rowSize);
    i = j + 1;
  }
  return out;
}

/** Columns [from, to) of a row-major [rows, width] matrix (the whole array when that is all of it). */
export function sliceColumns(data: BigInt64Array, rows: number, width: number, from: number, to: number): BigInt64Array {
  if (from === 0 && to === width) return data;
  const cols = to - from;
  const out = new BigInt64Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * width + from, r * width + to), r * cols);
  return out;
}

const f16Table = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * 2 ** -14 * (frac / 1024);
    else if (exp === 31) table[h] = frac ? NaN : sign * Infinity;
    else table[h] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return table;
})();

/**
 * A float16 tensor's data as ONNX Runtime hands it out: the bits in a Uint16Array, or,
 * where the runtime has Float16Array (Node 24+), the values in one.
 */
export type HalfData = Uint16Array | { readonly length: number; subarray(begin: number, end: number): ArrayLike<number> };

/** Widens `size` float16 values of `src` from `offset` into `dst` (for fp16 models' logits). */
export function halfToFloat(src: HalfData, offset: number, size: number, dst: Float32Array): Float32Array {
  if (src instanceof Uint16Array) {
    for (let i = 0; i < size; i++) dst[i] = f16Table[src[offset + i]!]!;
  } else {
    dst.set(src.subarray(offset, offset + size));
  }
  return dst;
}
