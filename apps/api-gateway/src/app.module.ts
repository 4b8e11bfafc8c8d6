import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { ObservabilityModule } from '@keel/observability';
import { ConfigModule, REVOCATION_FEED_PATH, serviceEndpoint } from '@keel/platform';
import { JWKS_PATH, SecurityModule } from '@keel/security';
import { CompressionMiddleware } from './compression/compression.middleware';
import { type GatewayConfig, TOKEN_ISSUER } from './config/gateway-config';
import { globalLimiter, namedLimiters } from './routing/gateway-limiters';
import { RouteTable } from './routing/route-table';
import { RoutingModule } from './routing/routing.module';

@Module({})
export class AppModule implements NestModule {
  /**
   * The gateway for `config`. Builds the route table from the registry first: a route naming
   * a limiter the gateway does not have stops the start with a message naming it.
   */
  static forRoot(config: GatewayConfig): DynamicModule {
    const table = new RouteTable(
      config.registry,
      globalLimiter(config.rateLimits),
      namedLimiters(config.rateLimits),
    );
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forApp(config, {
          upstreams: Object.entries(config.upstreams).map(([name, upstream]) => ({
            name,
            url: upstream.url,
          })),
        }),
        // Tokens are checked at the edge against auth-service's JWKS, before any upstream
        // call; the limits are the route table's, applied by the forwarding middleware.
        SecurityModule.forApp(config, {
          limiters: [],
          auth: { jwksUrl: serviceEndpoint(config.upstreams[TOKEN_ISSUER].url, JWKS_PATH) },
          revocationFeedUrl: serviceEndpoint(
            config.upstreams[TOKEN_ISSUER].url,
            REVOCATION_FEED_PATH,
          ),
        }),
        RoutingModule.forRoot(table),
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CompressionMiddleware).forRoutes('*');
  }
}
