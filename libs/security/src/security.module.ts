import {
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnModuleInit,
  Optional,
  type Provider,
} from '@nestjs/common';
import { APP_GUARD, APP_PIPE, HttpAdapterHost } from '@nestjs/core';
import { type Server } from 'node:http';
import { type BaseConfig } from '@keel/platform';
import { AccessTokenVerifier } from './auth/access-token.verifier';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { installClientErrorResponder } from './headers/client-error.responder';
import { RequestSecurityMiddleware } from './headers/request-security.middleware';
import { SECURITY_OPTIONS } from './security.module-definition';
import { type SecurityAppOptions, type SecurityModuleOptions } from './security-options.interface';
import { httpRevocationFeed } from './sessions/http-revocation-feed';
import { RevocationList } from './sessions/revocation-list';
import { RequestLimiter } from './throttling/request-limiter';
import { RATE_LIMIT_STORE } from './throttling/throttling.constants';
import { createThrottlingProviders } from './throttling/throttling.providers';
import { createValidationPipe } from './validation/validation-pipe.factory';

/**
 * Security headers on every response (errors, 404s, 429s and malformed requests included),
 * CORS, the one JSON body parser, validation of every DTO, rate limits and bearer-token
 * checks. Import once in each app's root module with `forRoot`.
 */
@Module({})
export class SecurityModule implements NestModule, OnModuleInit {
  constructor(@Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost) {}

  /**
   * `forRoot` from an app's validated configuration: its CORS origins, body limit and Redis,
   * with rate-limit keys under `REDIS_KEY_PREFIX` and the app's name (`keel:rl:<app>:`). The
   * app declares what only it knows: its limiters, where token keys come from (`auth`) and
   * where revoked sessions are learnt (`revocationFeedUrl`, polled with the internal token).
   */
  static forApp(config: BaseConfig, app: SecurityAppOptions): DynamicModule {
    return SecurityModule.forRoot({
      corsOrigins: config.corsOrigins,
      bodyLimitBytes: config.bodyLimitBytes,
      throttling: {
        limiters: app.limiters,
        redisUrl: config.redisUrl,
        redisCommandTimeoutMs: config.rateLimits.redisTimeoutMs,
        redisLeaseMax: config.rateLimits.leaseMax,
        keyPrefix: `${config.redisKeyPrefix}rl:${config.app}:`,
        internalToken: config.internalToken,
      },
      auth: app.auth,
      revocationFeed:
        app.auth && app.revocationFeedUrl
          ? httpRevocationFeed(app.revocationFeedUrl, config.internalToken)
          : undefined,
    });
  }

  static forRoot(options: SecurityModuleOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: SECURITY_OPTIONS, useValue: options },
      { provide: APP_PIPE, useFactory: createValidationPipe },
    ];
    const exports: Array<
      symbol | typeof AccessTokenVerifier | typeof RevocationList | typeof RequestLimiter
    > = [];
    // Limits before authentication, so floods of bad tokens are limited too.
    if (options.throttling) {
      providers.push(...createThrottlingProviders(options.throttling));
      exports.push(RATE_LIMIT_STORE, RequestLimiter);
    }
    const auth = options.auth;
    if (auth) {
      const feed = options.revocationFeed;
      providers.push(
        { provide: RevocationList, useFactory: () => new RevocationList(feed) },
        {
          provide: AccessTokenVerifier,
          inject: [RevocationList],
          useFactory: (revocations: RevocationList) =>
            new AccessTokenVerifier(auth, { revocations }),
        },
        { provide: APP_GUARD, useClass: JwtAuthGuard },
      );
      exports.push(AccessTokenVerifier, RevocationList);
    }
    return { module: SecurityModule, providers, exports };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestSecurityMiddleware).forRoutes('*');
  }

  onModuleInit(): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
    if (server) {
      installClientErrorResponder(server);
    }
  }
}
