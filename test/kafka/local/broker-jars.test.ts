import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchBrokerJars, jarsPresent } from '../../../src/kafka/local/broker-jars.js';
import { isTeacherlmError, type TeacherlmError } from '../../../src/errors.js';

describe('fetchBrokerJars', () => {
  it('does not run Maven when the broker jar of that version is there', async () => {
    const libs = join(mkdtempSync(join(tmpdir(), 'jars-')), '4.1.2', 'libs');
    mkdirSync(libs, { recursive: true });
    writeFileSync(join(libs, 'kafka_2.13-4.1.2.jar'), '');
    expect(await fetchBrokerJars(libs, '4.1.2', () => {}, '/nonexistent/mvn')).toBe(libs);
    expect(jarsPresent(libs, '4.1.3')).toBe(false);
  });

  it('says what to install when Maven is missing, and leaves no half-filled folder', async () => {
    const libs = join(mkdtempSync(join(tmpdir(), 'jars-')), '4.1.2', 'libs');
    const err = await fetchBrokerJars(libs, '4.1.2', () => {}, '/nonexistent/mvn').catch((e: unknown) => e);
    expect(isTeacherlmError(err, 'TOOL_FAILED')).toBe(true);
    expect((err as TeacherlmError).message).toBe('Maven not found (/nonexistent/mvn)');
    expect((err as TeacherlmError).hint).toMatch(/install Maven/);
    expect(existsSync(libs)).toBe(false);
    expect(existsSync(`${libs}.partial-${process.pid}`)).toBe(false);
  });
});
