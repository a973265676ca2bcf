/**
 * What `teacherlm tail` prints: a decoded output record (`records/output-record.ts`) as
 * one JSON line. Bytes (a dead letter's original key and value) print as text when they
 * are valid UTF-8, else as `{ "base64": ... }`.
 */

export function toJsonLine(value: unknown): string {
  return JSON.stringify(plain(value));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) {
    try {
      return utf8.decode(value);
    } catch {
      return { base64: value.toString('base64') };
    }
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
