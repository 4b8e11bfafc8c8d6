import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { ObservabilityModule } from '@keel/observability';
import { ConfigModule, REVOCATION_FEED_PATH, serviceEndpoint } from '@keel/platform';
import { gatewayRateLimiters, JWKS_PATH, SecurityModule } from '@keel/security';
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
        ObservabilityModule.forApp(config, {
          upstreams: [
            { name: 'auth-service', url: config.upstreams['auth-service'].url },
            { name: 'users-service', url: config.upstreams['users-service'].url },
          ],
        }),
        // Tokens are checked at the edge against auth-service's JWKS, before any upstream call.
        SecurityModule.forApp(config, {
          limiters: gatewayRateLimiters(config.rateLimits),
          auth: { jwksUrl: serviceEndpoint(config.authServiceUrl, JWKS_PATH) },
          revocationFeedUrl: serviceEndpoint(config.authServiceUrl, REVOCATION_FEED_PATH),
        }),
        ProxyModule,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CompressionMiddleware).forRoutes('*');
  }
}
