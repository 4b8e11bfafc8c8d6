import { type DynamicModule, Module } from '@nestjs/common';
import { ObservabilityModule } from '@keel/observability';
import { ConfigModule, DatabaseModule } from '@keel/platform';
import { SecurityModule, serviceRateLimiters } from '@keel/security';
import { type UsersConfig } from './config/users-config';
import { InitialSchema1764316800000 } from './migrations/1764316800000-initial-schema';
import { Profile } from './profiles/profile.entity';
import { ProfilesModule } from './profiles/profiles.module';

@Module({})
export class AppModule {
  static forRoot(config: UsersConfig): DynamicModule {
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
          health: { redisUrl: config.redisUrl },
        }),
        SecurityModule.forRoot({
          corsOrigins: config.corsOrigins,
          bodyLimitBytes: config.bodyLimitBytes,
          throttling: {
            limiters: serviceRateLimiters(config.rateLimits),
            redisUrl: config.redisUrl,
            keyPrefix: `keel:rl:${config.app}:`,
          },
          // A trailing slash in AUTH_SERVICE_URL must not turn into `//.well-known`.
          auth: { jwksUrl: `${config.authServiceUrl.replace(/\/+$/, '')}/.well-known/jwks.json` },
        }),
        DatabaseModule.forRoot({
          entities: [Profile],
          migrations: [InitialSchema1764316800000],
        }),
        ProfilesModule,
      ],
    };
  }
}
