import { type DynamicModule, Module } from '@nestjs/common';
import { ObservabilityModule } from '@keel/observability';
import {
  ConfigModule,
  DatabaseModule,
  REVOCATION_FEED_PATH,
  serviceEndpoint,
} from '@keel/platform';
import { JWKS_PATH, SecurityModule, serviceRateLimiters } from '@keel/security';
import { type AppConfig } from './config/app-config';
import { CreateTplItems1700000000000 } from './migrations/1700000000000-create-tpl-items';
import { TplItem } from './tpl-items/tpl-item.entity';
import { TplItemsModule } from './tpl-items/tpl-items.module';

/**
 * Everything the platform gives a service: config, logs/metrics/traces/Sentry and health
 * (ObservabilityModule), bearer tokens checked against auth-service's keys, rate limits,
 * validation and the contract's error body (SecurityModule), and its own database.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forApp(config),
        SecurityModule.forApp(config, {
          limiters: serviceRateLimiters(config.rateLimits),
          auth: { jwksUrl: serviceEndpoint(config.authServiceUrl, JWKS_PATH) },
          revocationFeedUrl: serviceEndpoint(config.authServiceUrl, REVOCATION_FEED_PATH),
        }),
        DatabaseModule.forRoot({
          entities: [TplItem],
          migrations: [CreateTplItems1700000000000],
        }),
        TplItemsModule,
      ],
    };
  }
}
