import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { type BaseConfig, DRAIN_LISTENER } from '@keel/platform';
import { LoggerModule } from 'nestjs-pino';
import { AdmissionControl } from './admission/admission-control.service';
import { ChaosInterceptor } from './chaos/chaos.interceptor';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import { AccessLog, ROOT_LOGGER } from './logging/access-log';
import { accessLogger, loggerParams, rootLogger } from './logging/logger-params.factory';
import { DependencyMonitor } from './health/dependency.monitor';
import { HealthController } from './health/health.controller';
import { type HealthOptions } from './health/health-options.interface';
import { ReadinessState } from './health/readiness.state';
import { RedisHealthClient } from './health/redis-health.client';
import { DbPoolCollector } from './metrics/db-pool.collector';
import { HttpMetricsRecorder } from './metrics/http-metrics.recorder';
import { MetricsController } from './metrics/metrics.controller';
import { METRICS_PATH } from './metrics/metrics.constants';
import { MetricsService } from './metrics/metrics.service';
import { OBSERVABILITY_OPTIONS } from './observability.module-definition';
import { type ObservabilityModuleOptions } from './observability-options.interface';

/**
 * Everything an app needs to be observable: correlated JSON logs, request ids, the
 * contract's error body, Prometheus metrics on `/metrics` ({@link MetricsService} to declare
 * more), and `/health/live` + `/health/ready`. Import once in the root module with `forRoot`.
 */
@Module({})
export class ObservabilityModule {
  /**
   * `forRoot` from an app's validated configuration; `health` adds readiness checks beyond
   * the database and Redis (the gateway's upstreams).
   */
  static forApp(config: BaseConfig, health: Omit<HealthOptions, 'redisUrl'> = {}): DynamicModule {
    return ObservabilityModule.forRoot({
      serviceName: config.serviceName,
      version: config.version,
      logLevel: config.logLevel,
      logFormat: config.logFormat,
      chaosEnabled: config.chaosEnabled,
      sentry: config.sentry,
      admission: config.admission,
      health: { ...health, redisUrl: config.redisUrl },
    });
  }

  static forRoot(options: ObservabilityModuleOptions): DynamicModule {
    MetricsService.configure(options.serviceName);
    const logger = rootLogger(options);
    return {
      module: ObservabilityModule,
      global: true,
      imports: [
        LoggerModule.forRoot(loggerParams(logger)),
        // Its controller is ours (content negotiation); its options provider makes
        // `makeCounterProvider()` + `@InjectMetric()` usable too. Node.js defaults are
        // collected by MetricsService, once per process.
        PrometheusModule.register({
          path: METRICS_PATH,
          controller: MetricsController,
          defaultMetrics: { enabled: false },
        }),
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
      ],
      controllers: [HealthController],
      providers: [
        { provide: OBSERVABILITY_OPTIONS, useValue: options },
        // Injectable as itself too: the gateway's edge answers its errors through it.
        AllExceptionsFilter,
        { provide: APP_FILTER, useExisting: AllExceptionsFilter },
        // Only where chaos is on: a global interceptor costs every request an rxjs pipeline
        // and an AsyncResource binding in Nest's interceptor chain, even when it passes.
        ...(options.chaosEnabled === true
          ? [{ provide: APP_INTERCEPTOR, useClass: ChaosInterceptor }]
          : []),
        MetricsService,
        { provide: ROOT_LOGGER, useValue: logger },
        { provide: AccessLog, useValue: new AccessLog(accessLogger(options, logger)) },
        HttpMetricsRecorder,
        DbPoolCollector,
        ReadinessState,
        { provide: DRAIN_LISTENER, useExisting: ReadinessState },
        RedisHealthClient,
        DependencyMonitor,
        AdmissionControl,
      ],
      exports: [
        OBSERVABILITY_OPTIONS,
        MetricsService,
        AdmissionControl,
        ReadinessState,
        DRAIN_LISTENER,
      ],
    };
  }
}
