// Deep import on purpose: the platform barrel loads http, express and TypeORM, which must
// not be required before the tracing SDK has hooked them. env-reader has no such imports.
import { type Env, EnvReader } from '@keel/platform/config/env-reader';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export const TRACES_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** Short names of the instrumentations the platform registers (`OTEL_NODE_DISABLED_INSTRUMENTATIONS`). */
export const INSTRUMENTATION_NAMES = [
  'http',
  'undici',
  'nestjs-core',
  'pg',
  'ioredis',
  'typeorm-sqlite',
] as const;
export type InstrumentationName = (typeof INSTRUMENTATION_NAMES)[number];

/**
 * Off unless named in `OTEL_NODE_ENABLED_INSTRUMENTATIONS`: nestjs-core's middleware, guard
 * and handler spans are framework internals the contract does not ask for, and cost about a
 * span per middleware on every request.
 */
export const OPT_IN_INSTRUMENTATIONS: readonly InstrumentationName[] = ['nestjs-core'];

/** What the tracing SDK needs from the environment, validated once. */
export interface TracingSettings {
  /** `OTEL_SDK_DISABLED=true`: no provider, no instrumentation, no trace ids. */
  disabled: boolean;
  serviceName: string;
  serviceVersion: string;
  /** `deployment.environment.name`, from `NODE_ENV`. */
  environment: string;
  /** Set only when an OTLP endpoint is configured; otherwise spans are made but not exported. */
  exporter: { protocol: OtlpProtocol } | undefined;
  /**
   * Instrumentations not to register: those not in `OTEL_NODE_ENABLED_INSTRUMENTATIONS` (by
   * default the {@link OPT_IN_INSTRUMENTATIONS}) plus `OTEL_NODE_DISABLED_INSTRUMENTATIONS`,
   * as in auto-instrumentations-node.
   */
  disabledInstrumentations: InstrumentationName[];
}

/** What tracing takes from the app's configuration (read once by the app's loader). */
export interface TracingIdentity {
  /** `OTEL_SERVICE_NAME`, default the app name. */
  serviceName: string;
  version: string;
  /** `NODE_ENV`. */
  nodeEnv: string;
}

/**
 * Reads the OpenTelemetry variables only tracing uses (`OTEL_SERVICE_NAME` and `NODE_ENV`
 * come from the app's configuration, never read twice). The exporters and the
 * sampler read their own variables again (headers, timeouts, sampler argument): this only
 * decides what to start and rejects values the SDK would silently replace with defaults.
 *
 * @throws ConfigValidationError naming every bad variable.
 */
export function readTracingSettings(env: Env, identity: TracingIdentity): TracingSettings {
  const r = new EnvReader(env);
  const disabled = r.boolean('OTEL_SDK_DISABLED', false);
  const protocol = r.oneOf(
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    ['http/protobuf', 'http/json'] as const,
    r.oneOf(
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      ['http/protobuf', 'http/json'] as const,
      'http/protobuf',
    ),
  );
  const endpoint =
    r.url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', undefined, ['http', 'https']) ??
    r.url('OTEL_EXPORTER_OTLP_ENDPOINT', undefined, ['http', 'https']);
  const sampler = r.oneOf('OTEL_TRACES_SAMPLER', TRACES_SAMPLERS, 'parentbased_always_on');
  const samplerArg = r.raw('OTEL_TRACES_SAMPLER_ARG');
  if (sampler.endsWith('traceidratio') && samplerArg !== undefined) {
    const ratio = Number(samplerArg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      r.fail('OTEL_TRACES_SAMPLER_ARG', `must be a number from 0 to 1 (got "${samplerArg}")`, 1);
    }
  }
  const instrumentationList = (name: string): InstrumentationName[] => {
    const names = r.list(name);
    const unknown = names.filter(
      (entry) => !(INSTRUMENTATION_NAMES as readonly string[]).includes(entry),
    );
    if (unknown.length > 0) {
      r.fail(
        name,
        `may only name ${INSTRUMENTATION_NAMES.join(', ')} (got "${unknown.join(', ')}")`,
        [],
      );
    }
    return names as InstrumentationName[];
  };
  const explicitlyDisabled = instrumentationList('OTEL_NODE_DISABLED_INSTRUMENTATIONS');
  // As in auto-instrumentations-node: when set, only the named ones run.
  const enabled =
    r.raw('OTEL_NODE_ENABLED_INSTRUMENTATIONS') === undefined
      ? INSTRUMENTATION_NAMES.filter((name) => !OPT_IN_INSTRUMENTATIONS.includes(name))
      : instrumentationList('OTEL_NODE_ENABLED_INSTRUMENTATIONS');
  const disabledInstrumentations = INSTRUMENTATION_NAMES.filter(
    (name) => !enabled.includes(name) || explicitlyDisabled.includes(name),
  );
  const settings: TracingSettings = {
    disabled,
    serviceName: identity.serviceName,
    serviceVersion: identity.version,
    environment: identity.nodeEnv,
    exporter: endpoint ? { protocol } : undefined,
    disabledInstrumentations,
  };
  r.done();
  return settings;
}
