import { type INestApplication } from '@nestjs/common';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { type BaseConfig } from '../config/base-config';

/**
 * Applies the process-level settings that a module cannot: the logger, body parsing,
 * proxy trust and shutdown hooks. `bootstrap` and the e2e tests both call it, so tests get
 * what production gets.
 */
export function configureApp(app: INestApplication, config: BaseConfig): NestExpressApplication {
  const expressApp = app as NestExpressApplication;
  expressApp.useLogger(expressApp.get(Logger));
  expressApp.flushLogs();
  expressApp.set('trust proxy', config.trustProxy);
  expressApp.set('x-powered-by', false);
  expressApp.useBodyParser('json', { limit: config.bodyLimitBytes, strict: true });
  expressApp.enableShutdownHooks();
  return expressApp;
}
