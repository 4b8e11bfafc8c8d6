import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type Provider,
} from '@nestjs/common';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AccessTokenVerifier } from './auth/access-token.verifier';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { HelmetMiddleware } from './headers/helmet.middleware';
import { SecurityConfigurableModule } from './security.module-definition';
import { type SecurityModuleOptions } from './security-options.interface';
import { createValidationPipe } from './validation/validation-pipe.factory';

/** Security headers on every response, validation of every DTO, bearer-token checks. */
@Module({})
export class SecurityModule extends SecurityConfigurableModule implements NestModule {
  static override forRoot(options: SecurityModuleOptions): DynamicModule {
    const base = super.forRoot(options);
    const providers: Provider[] = [
      ...(base.providers ?? []),
      { provide: APP_PIPE, useFactory: createValidationPipe },
    ];
    const auth = options.auth;
    if (auth) {
      providers.push(
        { provide: AccessTokenVerifier, useFactory: () => new AccessTokenVerifier(auth) },
        { provide: APP_GUARD, useClass: JwtAuthGuard },
      );
    }
    return { ...base, providers, exports: auth ? [AccessTokenVerifier] : [] };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HelmetMiddleware).forRoutes('*');
  }
}
