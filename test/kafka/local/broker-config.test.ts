import { describe, expect, it } from 'vitest';
import { newClusterId, renderLog4jProperties, renderServerProperties } from '../../../src/kafka/local/broker-config.js';

function parse(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('renderServerProperties', () => {
  const props = parse(renderServerProperties({ host: '127.0.0.1', port: 19092, controllerPort: 19093, dataDir: '/tmp/d' }));

  it('makes one combined broker+controller on the given host and ports', () => {
    expect(props).toMatchObject({
      'process.roles': 'broker,controller',
      listeners: 'PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:19092',
      'controller.quorum.bootstrap.servers': '127.0.0.1:19093',
      'log.dirs': '/tmp/d',
    });
  });

  it('lets groups and transactions work on a single broker, and never auto-creates topics', () => {
    expect(props).toMatchObject({
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'auto.create.topics.enable': 'false',
    });
  });
});

describe('renderLog4jProperties', () => {
  it('logs to the console (redirected to broker.log by the launcher)', () => {
    expect(parse(renderLog4jProperties())).toMatchObject({ 'appender.out.type': 'Console', 'rootLogger.level': 'INFO' });
  });
});

describe('newClusterId', () => {
  it('is 22 URL-safe base64 characters (16 bytes) and never starts with a dash', () => {
    const ids = Array.from({ length: 500 }, newClusterId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
