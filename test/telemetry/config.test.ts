import { describe, expect, it } from 'vitest';
import { telemetryConfigFromEnv } from '../../src/telemetry/config.js';
import { isTeacherlmError } from '../../src/errors.js';

describe('telemetryConfigFromEnv', () => {
  it('exports nothing unless an endpoint or an exporter is set', () => {
    expect(telemetryConfigFromEnv({}, 'teacherlm-produce')).toEqual({ exporter: 'none', serviceName: 'teacherlm-produce' });
  });

  it('uses OTLP when an endpoint is set, appending /v1/traces to the base one only', () => {
    expect(telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318/' })).toMatchObject({
      exporter: 'otlp',
      tracesUrl: 'http://localhost:4318/v1/traces',
    });
    expect(
      telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://j:4318/traces' }),
    ).toMatchObject({ exporter: 'otlp', tracesUrl: 'http://j:4318/traces' });
    expect(telemetryConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ exporter: 'otlp', serviceName: 'teacherlm-stream' });
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
});
