import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { ObservabilityModule } from '@keel/observability';
import { ConfigModule } from '@keel/platform';
import { gatewayRateLimiters, SecurityModule } from '@keel/security';
import { CompressionMiddleware } from './compression/compression.middleware';
import { type GatewayConfig } from './config/gateway-config';
import { ProxyModule } from './proxy/proxy.module';

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({
          serviceName: config.serviceName,
          version: config.version,
          logLevel: config.logLevel,
          logFormat: config.logFormat,
          chaosEnabled: config.chaosEnabled,
          sentry: config.sentry,
          health: {
            redisUrl: config.redisUrl,
            upstreams: [
              { name: 'auth-service', url: config.authServiceUrl },
              { name: 'users-service', url: config.usersServiceUrl },
            ],
          },
        }),
        // Tokens are checked at the edge against auth-service's JWKS, before any upstream call.
        SecurityModule.forRoot({
          corsOrigins: config.corsOrigins,
          bodyLimitBytes: config.bodyLimitBytes,
          throttling: {
            limiters: gatewayRateLimiters(config.rateLimits),
            redisUrl: config.redisUrl,
            keyPrefix: `keel:rl:${config.app}:`,
          },
          auth: { jwksUrl: `${config.authServiceUrl.replace(/\/+$/, '')}/.well-known/jwks.json` },
        }),
        ProxyModule,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CompressionMiddleware).forRoutes('*');
  }
}
