import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_DIR, smollm2StaleConverters } from './smollm2.js';

const sha = (file: string) => createHash('sha256').update(readFileSync(join(PROJECT_DIR, 'tools', 'models', file))).digest('hex');
const dirs: string[] = [];
function importedBy(converter: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'smollm2-manifest-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ inputs: { converter_sha256: converter } }));
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('smollm2StaleConverters', () => {
  it('names the converter files that changed since the import, and none when they are the same', () => {
    expect(smollm2StaleConverters(importedBy({ 'onnx_decoder.py': sha('onnx_decoder.py'), 'import_gguf.py': sha('import_gguf.py') }))).toEqual([]);
    expect(smollm2StaleConverters(importedBy({ 'onnx_decoder.py': '0'.repeat(64), 'import_gguf.py': sha('import_gguf.py') }))).toEqual(['onnx_decoder.py']);
    expect(smollm2StaleConverters(importedBy({ 'gone.py': '0'.repeat(64) }))).toEqual(['gone.py']);
  });
});
