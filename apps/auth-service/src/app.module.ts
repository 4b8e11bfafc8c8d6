import { type DynamicModule, Module } from '@nestjs/common';
import { ObservabilityModule } from '@keel/observability';
import { ConfigModule, DatabaseModule } from '@keel/platform';
import { SecurityModule, serviceRateLimiters } from '@keel/security';
import { AuthModule } from './auth/auth.module';
import { type AuthConfig } from './config/auth-config';
import { Credential } from './credentials/credential.entity';
import { InitialSchema1764230400000 } from './migrations/1764230400000-initial-schema';
import { SessionsRevokedAtIndex1764921600000 } from './migrations/1764921600000-sessions-revoked-at-index';
import { Session } from './sessions/session.entity';

@Module({})
export class AppModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forApp(config),
        SecurityModule.forApp(config, { limiters: serviceRateLimiters(config.rateLimits) }),
        DatabaseModule.forRoot({
          entities: [Credential, Session],
          migrations: [InitialSchema1764230400000, SessionsRevokedAtIndex1764921600000],
        }),
        AuthModule,
      ],
    };
  }
}
