import { type DynamicModule, Module } from '@nestjs/common';
import { ObservabilityModule } from '@keel/observability';
import {
  ConfigModule,
  DatabaseModule,
  REVOCATION_FEED_PATH,
  serviceEndpoint,
} from '@keel/platform';
import { JWKS_PATH, SecurityModule, serviceRateLimiters } from '@keel/security';
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
        ObservabilityModule.forApp(config),
        SecurityModule.forApp(config, {
          limiters: serviceRateLimiters(config.rateLimits),
          auth: { jwksUrl: serviceEndpoint(config.authServiceUrl, JWKS_PATH) },
          revocationFeedUrl: serviceEndpoint(config.authServiceUrl, REVOCATION_FEED_PATH),
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
