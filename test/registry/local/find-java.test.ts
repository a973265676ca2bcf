import { mkdirSync, mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findJava, javaCandidates } from '../../../src/registry/local/find-java.js';
import { registryEnvironment } from '../../../src/registry/local-registry.js';
import { isTeacherlmError, type TeacherlmError } from '../../../src/errors.js';

/** A fake JDK folder whose bin/java prints the given `java -version` line. */
function fakeJdk(root: string, name: string, version: string): void {
  mkdirSync(join(root, name, 'bin'), { recursive: true });
  const java = join(root, name, 'bin', 'java');
  writeFileSync(java, `#!/bin/sh\necho 'openjdk version "${version}" 2025-01-01' >&2\n`);
  chmodSync(java, 0o755);
}

describe('findJava', () => {
  it('skips a Java that is too old and takes a newer JDK from the JVM folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'jvm-'));
    fakeJdk(root, 'java-17-openjdk', '17.0.15');
    fakeJdk(root, 'temurin-25-jdk', '25.0.1');
    const env = { PATH: '', JAVA_HOME: join(root, 'java-17-openjdk') };
    expect(javaCandidates(env, root)[0]).toBe(join(root, 'java-17-openjdk', 'bin', 'java'));
    expect(findJava(21, 'Apicurio Registry', env, root)).toEqual({ java: join(root, 'temurin-25-jdk', 'bin', 'java'), major: 25 });
  });

  it('says in one line what to install when none is new enough', () => {
    const root = mkdtempSync(join(tmpdir(), 'jvm-'));
    fakeJdk(root, 'java-17-openjdk', '17.0.15');
    let err: unknown;
    try {
      findJava(21, 'Apicurio Registry 3.3.3', { PATH: '' }, root);
    } catch (e) {
      err = e;
    }
    expect(isTeacherlmError(err, 'TOOL_FAILED')).toBe(true);
    expect((err as TeacherlmError).message).toBe(`Apicurio Registry 3.3.3 needs Java 21+; ${join(root, 'java-17-openjdk', 'bin', 'java')} is 17`);
    expect((err as TeacherlmError).hint).toMatch(/install a Java 21\+ JDK/);
  });
});

describe('registryEnvironment', () => {
  it('binds HTTP and management to loopback and stores schemas in an H2 file', () => {
    expect(registryEnvironment(18080, '/c/registry-18080/data/registry')).toMatchObject({
      QUARKUS_HTTP_HOST: '127.0.0.1',
      QUARKUS_HTTP_PORT: '18080',
      QUARKUS_MANAGEMENT_HOST: '127.0.0.1',
      QUARKUS_MANAGEMENT_PORT: '18081',
      APICURIO_DATASOURCE_URL: 'jdbc:h2:file:/c/registry-18080/data/registry',
    });
  });
});
