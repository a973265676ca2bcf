import { describe, expect, it } from 'vitest';
import { javaExecutable, parseJavaMajor, requireJava } from '../../../src/kafka/local/java.js';
import { isTeacherlmError, type TeacherlmError } from '../../../src/errors.js';

describe('parseJavaMajor', () => {
  it('reads modern and legacy version strings', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('no version here')).toBeUndefined();
  });
});

describe('requireJava', () => {
  it('prefers JAVA_HOME', () => {
    expect(javaExecutable({ JAVA_HOME: '/opt/jdk' })).toBe('/opt/jdk/bin/java');
    expect(javaExecutable({})).toBe('java');
  });

  it('says what to install when Java is missing', () => {
    let err: unknown;
    try {
      requireJava({ JAVA_HOME: '/nonexistent/jdk', PATH: '' });
    } catch (e) {
      err = e;
    }
    expect(isTeacherlmError(err, 'TOOL_FAILED')).toBe(true);
    expect((err as TeacherlmError).message).toBe('Java not found (/nonexistent/jdk/bin/java)');
    expect((err as TeacherlmError).hint).toMatch(/install a Java 17\+ runtime/);
  });
});
