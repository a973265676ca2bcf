/**
 * Metrics and health for one worker (`teacherlm run`): the pipeline's instruments,
 * pushed as OTEL_* says, and with a `port` the HTTP endpoint of {@link startMetricsServer}.
 * Started before anything slow so that `/readyz` answers 503 while the worker starts:
 * ready means engines loaded, partitions assigned and the broker answering.
 *
 * @example
 * const worker = await startWorkerMetrics({ serviceName: 'teacherlm-run', port: 9464 });
 * // ... load engines
 * worker.enginesLoaded();
 * worker.watch({ source, kafka });
 * runPipeline({ ..., metrics: worker.pipeline });
 * await worker.close();
 */
import type { Kafka } from 'kafkajs';
import type { TopicPartition } from '../pipeline/ports.js';
import { type MetricsServer, startMetricsServer } from './metrics-server.js';
import { startMetrics } from './metrics-setup.js';
import type { PipelineMetrics } from './pipeline-metrics.js';

export interface WorkerMetricsOptions {
  serviceName: string;
  /** Serve /metrics, /healthz and /readyz here (0: any free port). */
  port?: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
}

export interface WorkerMetrics {
  readonly pipeline: PipelineMetrics;
  /** The endpoint's port, when one was asked for. */
  readonly port: number | undefined;
  enginesLoaded(): void;
  /** Where the partition and broker checks look. */
  watch(parts: { source: { assigned(): TopicPartition[] }; kafka: Kafka }): void;
  /** Stops the endpoint, pushes the last metrics and stops them. */
  close(): Promise<void>;
}

/** How long a broker probe's answer is reused, so frequent probes cost one request a second. */
const BROKER_PROBE_TTL_MS = 1_000;
const BROKER_PROBE_TIMEOUT_MS = 3_000;

export async function startWorkerMetrics(options: WorkerMetricsOptions): Promise<WorkerMetrics> {
  const metrics = startMetrics({ serviceName: options.serviceName, prometheus: options.port !== undefined, ...(options.env ? { env: options.env } : {}) });
  let engines = false;
  let watched: { source: { assigned(): TopicPartition[] }; kafka: Kafka } | undefined;
  let admin: ReturnType<Kafka['admin']> | undefined;
  let probe: { at: number; answer: Promise<boolean> } | undefined;

  const brokerReachable = (): Promise<boolean> => {
    if (!watched) return Promise.resolve(false);
    if (probe && performance.now() - probe.at < BROKER_PROBE_TTL_MS) return probe.answer;
    const client = (admin ??= watched.kafka.admin());
    const answer = Promise.race([
      client.connect().then(() => client.describeCluster()).then((c) => c.brokers.length > 0),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), BROKER_PROBE_TIMEOUT_MS).unref()),
    ]).catch(() => false);
    probe = { at: performance.now(), answer };
    return answer;
  };

  let server: MetricsServer | undefined;
  try {
    if (options.port !== undefined) {
      server = await startMetricsServer({
        port: options.port,
        ...(options.host ? { host: options.host } : {}),
        ...(metrics.prometheus ? { prometheus: metrics.prometheus } : {}),
        readiness: {
          engines: () => engines,
          partitions: () => (watched?.source.assigned().length ?? 0) > 0,
          broker: brokerReachable,
        },
      });
    }
  } catch (err) {
    await metrics.shutdown();
    throw err;
  }

  return {
    pipeline: metrics.pipeline,
    port: server?.port,
    enginesLoaded: () => {
      engines = true;
    },
    watch: (parts) => {
      watched = parts;
    },
    close: async () => {
      await server?.close();
      await Promise.allSettled([admin?.disconnect(), metrics.shutdown()]);
    },
  };
}
