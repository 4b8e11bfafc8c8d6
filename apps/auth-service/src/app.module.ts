import { type DynamicModule, Module } from '@nestjs/common';
import { ObservabilityModule } from '@keel/observability';
import { ConfigModule, DatabaseModule } from '@keel/platform';
import { SecurityModule, serviceRateLimiters } from '@keel/security';
import { AuthModule } from './auth/auth.module';
import { type AuthConfig } from './config/auth-config';
import { Credential } from './credentials/credential.entity';
import { InitialSchema1764230400000 } from './migrations/1764230400000-initial-schema';
import { Session } from './sessions/session.entity';

@Module({})
export class AppModule {
  static forRoot(config: AuthConfig): DynamicModule {
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
        }),
        DatabaseModule.forRoot({
          entities: [Credential, Session],
          migrations: [InitialSchema1764230400000],
        }),
        AuthModule,
      ],
    };
  }
}
