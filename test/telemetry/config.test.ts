import { describe, expect, it } from 'vitest';
import { metricsConfigFromEnv, telemetryConfigFromEnv } from '../../src/telemetry/config.js';
import { isTeacherlmError } from '../../src/errors.js';

describe('telemetryConfigFromEnv', () => {
  it('exports nothing unless an endpoint or an exporter is set', () => {
    expect(telemetryConfigFromEnv({}, 'teacherlm-produce')).toEqual({ exporter: 'none', serviceName: 'teacherlm-produce', protocol: 'http/protobuf' });
  });

  it('uses OTLP when an endpoint is set, appending /v1/traces to the base one only', () => {
    expect(telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318/' })).toMatchObject({
      exporter: 'otlp',
      tracesUrl: 'http://localhost:4318/v1/traces',
    });
    expect(
      telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://j:4318/traces' }),
    ).toMatchObject({ exporter: 'otlp', tracesUrl: 'http://j:4318/traces' });
    expect(telemetryConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ exporter: 'otlp', serviceName: 'teacherlm-stream', protocol: 'http/protobuf' });
  });

  it('honours OTEL_TRACES_EXPORTER, OTEL_SDK_DISABLED and OTEL_SERVICE_NAME', () => {
    expect(telemetryConfigFromEnv({ OTEL_TRACES_EXPORTER: 'Console' }).exporter).toBe('console');
    expect(
      telemetryConfigFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' }).exporter,
    ).toBe('none');
    expect(telemetryConfigFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).exporter).toBe('none');
    expect(telemetryConfigFromEnv({ OTEL_SERVICE_NAME: 'mine' }, 'theirs').serviceName).toBe('mine');
  });

  it('names the variable when its value is unsupported', () => {
    let error: unknown;
    try {
      telemetryConfigFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' });
    } catch (e) {
      error = e;
    }
    expect(isTeacherlmError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain('OTEL_TRACES_EXPORTER');
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable that gave it, for both signals', () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /^OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:\/\/ or https:\/\/ URL, got "collector:4318"/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ok:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' }, /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: expected an http/],
    ];
    for (const [env, message] of cases) {
      for (const read of [() => telemetryConfigFromEnv(env), () => metricsConfigFromEnv({ ...env, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT })]) {
        const error = (() => {
          try {
            read();
          } catch (e) {
            return e;
          }
        })();
        expect(isTeacherlmError(error, 'INVALID_OPTIONS'), JSON.stringify(env)).toBe(true);
        expect((error as Error).message.replace('METRICS', 'TRACES')).toMatch(message);
      }
    }
    expect(telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318/' }).tracesUrl).toBe('https://c:4318/v1/traces');
  });
});

describe('OTLP protocol', () => {
  it('defaults to http/protobuf, takes http/json, and lets the per-signal variable win', () => {
    expect(telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).protocol).toBe('http/protobuf');
    expect(telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).protocol).toBe('http/json');
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' };
    expect(metricsConfigFromEnv(env).protocol).toBe('http/protobuf');
    expect(telemetryConfigFromEnv(env).protocol).toBe('http/json');
  });

  it('refuses grpc and anything else, naming the variable', () => {
    expect(() => telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL.*'grpc'/);
    expect(() => metricsConfigFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
  });
});

describe('metricsConfigFromEnv', () => {
  it('pushes nothing unless an endpoint or an exporter is set, and appends /v1/metrics to the base endpoint only', () => {
    expect(metricsConfigFromEnv({})).toEqual({ exporter: 'none', exportIntervalMs: 60_000, protocol: 'http/protobuf' });
    expect(metricsConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/', OTEL_METRIC_EXPORT_INTERVAL: '500' })).toEqual({
      exporter: 'otlp',
      metricsUrl: 'http://c:4318/v1/metrics',
      exportIntervalMs: 500,
      protocol: 'http/protobuf',
    });
    expect(metricsConfigFromEnv({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m/x' }).metricsUrl).toBe('http://m/x');
    expect(metricsConfigFromEnv({ OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).exporter).toBe('none');
    expect(metricsConfigFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_METRICS_EXPORTER: 'otlp' }).exporter).toBe('none');
  });

  it('names the variable when its value is unsupported', () => {
    expect(() => metricsConfigFromEnv({ OTEL_METRICS_EXPORTER: 'prometheus' })).toThrow(/OTEL_METRICS_EXPORTER/);
    expect(() => metricsConfigFromEnv({ OTEL_METRIC_EXPORT_INTERVAL: 'soon' })).toThrow(/OTEL_METRIC_EXPORT_INTERVAL/);
  });
});
