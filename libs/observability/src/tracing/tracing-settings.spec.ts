import { ConfigValidationError } from '@keel/platform';
import { readTracingSettings } from './tracing-settings';

const defaults = { serviceName: 'orders-service', version: '1.2.3', nodeEnv: 'development' };

describe(readTracingSettings.name, () => {
  it('makes spans without exporting them when no endpoint is set', () => {
    expect(readTracingSettings({}, defaults)).toEqual({
      disabled: false,
      serviceName: 'orders-service',
      serviceVersion: '1.2.3',
      environment: 'development',
      exporter: undefined,
      disabledInstrumentations: ['nestjs-core'],
    });
  });

  it('exports over http/protobuf by default once an endpoint is set', () => {
    const settings = readTracingSettings(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' },
      { ...defaults, nodeEnv: 'production' },
    );
    expect(settings.exporter).toEqual({ protocol: 'http/protobuf' });
    expect(settings.environment).toBe('production');
  });

  it('honours http/json and the traces-specific variables, naming the service as the app config did', () => {
    const settings = readTracingSettings(
      {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'ignored-here',
      },
      { ...defaults, serviceName: 'orders-eu' },
    );
    expect(settings.exporter).toEqual({ protocol: 'http/json' });
    expect(settings.serviceName).toBe('orders-eu');
  });

  it('turns everything off with OTEL_SDK_DISABLED=true', () => {
    expect(readTracingSettings({ OTEL_SDK_DISABLED: 'true' }, defaults).disabled).toBe(true);
  });

  it('rejects values the SDK would silently replace, naming each variable', () => {
    const read = (): unknown =>
      readTracingSettings(
        {
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318',
          OTEL_TRACES_SAMPLER: 'sometimes',
          OTEL_SDK_DISABLED: 'maybe',
        },
        defaults,
      );
    expect(read).toThrow(ConfigValidationError);
    expect(read).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL[\s\S]*OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(read).toThrow(/OTEL_TRACES_SAMPLER /);
    expect(read).toThrow(/OTEL_SDK_DISABLED/);
  });

  it('checks the ratio of ratio samplers', () => {
    expect(() =>
      readTracingSettings(
        { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' },
        defaults,
      ),
    ).toThrow(/OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/);
    expect(
      readTracingSettings(
        { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' },
        defaults,
      ).disabled,
    ).toBe(false);
  });

  it('switches off named instrumentations and refuses unknown names', () => {
    expect(
      readTracingSettings({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'nestjs-core, pg' }, defaults)
        .disabledInstrumentations,
    ).toEqual(['nestjs-core', 'pg']);
    expect(
      readTracingSettings({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,nestjs-core' }, defaults)
        .disabledInstrumentations,
    ).toEqual(['undici', 'pg', 'ioredis', 'typeorm-sqlite']);
    expect(() =>
      readTracingSettings({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'express' }, defaults),
    ).toThrow(/OTEL_NODE_DISABLED_INSTRUMENTATIONS may only name http, undici/);
  });
});
