/** The files a local single-node KRaft broker is started with. */
import { randomBytes } from 'node:crypto';

export interface BrokerConfigInput {
  host: string;
  port: number;
  controllerPort: number;
  dataDir: string;
}

/**
 * server.properties for one combined broker+controller.
 *
 * Auto-creation of topics is OFF: every topic is declared by a topology and created by
 * `ensureTopics` with its partitions and configs. With it on, a typo in a topic name
 * silently makes a new 1-partition topic and a producer "succeeds" into the void.
 */
export function renderServerProperties({ host, port, controllerPort, dataDir }: BrokerConfigInput): string {
  const lines: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.bootstrap.servers': `${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,
    'auto.create.topics.enable': 'false',
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    // One broker: the internal topics must fit on it or groups and transactions never work.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // Fewer internal partitions than the default 50: they are created on first use,
    // and on 2 cores 50 of them delay the first group join by seconds.
    'offsets.topic.num.partitions': 8,
    'transaction.state.log.num.partitions': 8,
    // Tests and a laptop do not need to wait for more members before the first rebalance.
    'group.initial.rebalance.delay.ms': 0,
    'num.network.threads': 2,
    'num.io.threads': 4,
    'log.retention.hours': 168,
  };
  return Object.entries(lines)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
    .concat('\n');
}

/** Log4j 2: INFO to stdout (redirected to broker.log), chatty loggers turned down. */
export function renderLog4jProperties(): string {
  return [
    'status=warn',
    'appender.out.type=Console',
    'appender.out.name=out',
    'appender.out.layout.type=PatternLayout',
    'appender.out.layout.pattern=[%d] %p %m (%c)%n',
    'rootLogger.level=INFO',
    'rootLogger.appenderRef.out.ref=out',
    'logger.state.name=state.change.logger',
    'logger.state.level=WARN',
    'logger.config.name=org.apache.kafka.common.config.AbstractConfig',
    'logger.config.level=WARN',
    '',
  ].join('\n');
}

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, never starting with '-'. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
