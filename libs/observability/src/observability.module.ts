import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import { loggerParams } from './logging/logger-params.factory';
import { RequestContextMiddleware } from './logging/request-context.middleware';
import {
  OBSERVABILITY_OPTIONS,
  ObservabilityConfigurableModule,
} from './observability.module-definition';
import { type ObservabilityModuleOptions } from './observability-options.interface';

/**
 * Everything an app needs to be observable: correlated JSON logs, request ids, the
 * contract's error body. Import once in the root module with `forRoot`.
 */
@Module({})
export class ObservabilityModule extends ObservabilityConfigurableModule implements NestModule {
  static override forRoot(options: ObservabilityModuleOptions): DynamicModule {
    const base = super.forRoot(options);
    return {
      ...base,
      global: true,
      imports: [LoggerModule.forRoot(loggerParams(options))],
      providers: [...(base.providers ?? []), { provide: APP_FILTER, useClass: AllExceptionsFilter }],
      exports: [OBSERVABILITY_OPTIONS],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestContextMiddleware).forRoutes('*');
  }
}
