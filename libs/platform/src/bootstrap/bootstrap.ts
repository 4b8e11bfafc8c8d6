import { type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { type BaseConfig } from '../config/base-config';
import { configureApp } from './configure-app';

/** Creates, configures and starts an app; `main.ts` is this one call. */
export async function bootstrap(
  rootModule: DynamicModule,
  config: BaseConfig,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApp(app, config);
  await app.listen(config.port, config.host);
  app.get(Logger).log(`${config.app} listening on ${await app.getUrl()}`, 'Bootstrap');
  return app;
}

/**
 * Runs `main`, turning a configuration error into a one-line message and exit code 1
 * instead of a stack trace.
 */
export function runMain(main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`Fatal: ${message}\n`);
    process.exit(1);
  });
}
