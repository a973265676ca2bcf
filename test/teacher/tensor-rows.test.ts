import { describe, expect, it } from 'vitest';
import { halfToFloat } from '../../src/teacher/tensor-rows.js';

/** IEEE 754 binary16 bit patterns and their values, worked out by hand. */
const KNOWN: [bits: number, value: number][] = [
  [0x0000, 0],
  [0x8000, -0],
  [0x3c00, 1],
  [0xc000, -2],
  [0x3555, 0.333251953125], // 1.0101010101b x 2^-2
  [0x7bff, 65504], // largest finite
  [0x0400, 2 ** -14], // smallest normal
  [0x0001, 2 ** -24], // smallest subnormal
  [0x03ff, 1023 * 2 ** -24], // largest subnormal
  [0x8001, -(2 ** -24)],
  [0x7c00, Infinity],
  [0xfc00, -Infinity],
];

const widen = (bits: number[]) => Array.from(halfToFloat(Uint16Array.from(bits), 0, bits.length, new Float32Array(bits.length)));

describe('halfToFloat', () => {
  it('widens known bit patterns: signed zeros, subnormals, normals, infinities', () => {
    const got = widen(KNOWN.map(([bits]) => bits));
    KNOWN.forEach(([bits, value], i) => expect(Object.is(got[i], value), `0x${bits.toString(16)}: ${got[i]} vs ${value}`).toBe(true));
  });

  it('gives NaN for every NaN pattern, quiet or signalling, of either sign', () => {
    expect(widen([0x7e00, 0x7c01, 0x7fff, 0xfe00, 0xfc01])).toEqual([NaN, NaN, NaN, NaN, NaN]);
  });

  it('reads size values from offset into the start of dst and leaves the rest of dst alone', () => {
    const dst = new Float32Array([7, 7, 7, 7]);
    halfToFloat(Uint16Array.from([0x3c00, 0x4000, 0x4200, 0x4400]), 1, 2, dst);
    expect(Array.from(dst)).toEqual([2, 3, 7, 7]);
  });

  // Node 24+ has Float16Array, and ONNX Runtime then hands out float16 data in one.
  const Float16 = (globalThis as { Float16Array?: new (buffer: ArrayBuffer) => ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> } }).Float16Array;

  it.runIf(Float16)('agrees with the runtime\'s own Float16Array on all 65,536 patterns, and widens a Float16Array as well', () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const runtime = new Float16!(bits.buffer);
    const fromBits = halfToFloat(bits, 0, bits.length, new Float32Array(bits.length));
    const fromValues = halfToFloat(runtime, 0, bits.length, new Float32Array(bits.length));
    const wrong: string[] = [];
    for (let i = 0; i < bits.length; i++) {
      if (!Object.is(fromBits[i], runtime[i]) || !Object.is(fromValues[i], runtime[i])) wrong.push(`0x${i.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });
});
