import { describe, expect, it } from 'vitest';
import { subscribeAugmented } from '../../src/index.js';
import { parseRegistryPort } from '../../src/cli/registry-command.js';
import { parseRegistryUrl } from '../../src/registry/resolve-registry.js';

describe('subscribeAugmented options', () => {
  it('names the bad field before connecting to anything', () => {
    expect(() => subscribeAugmented({ topic: '', group: 'g', brokers: ['b:1'] })).toThrow('topic: expected a non-empty string, got ""');
    expect(() => subscribeAugmented({ topic: 't', group: 'g', brokers: [] })).toThrow('brokers: expected a non-empty list of host:port (or pass kafka), got an array');
    expect(() => subscribeAugmented({ topic: 't', group: 'g', brokers: ['b:1'], registryUrl: 'ftp://x' })).toThrow('registryUrl: expected an http(s) URL, got "ftp://x"');
  });
});

describe('registry options', () => {
  it('checks ports and URLs in the shared vocabulary', () => {
    expect(parseRegistryPort('18082')).toBe(18082);
    expect(() => parseRegistryPort('80')).toThrow('--port: expected an integer from 1024 to 65534, got "80"');
    expect(parseRegistryUrl('http://127.0.0.1:18080/apis/ccompat/v7/')).toBe('http://127.0.0.1:18080/apis/ccompat/v7');
  });
});
