// Loaded first by main.ts, before anything that loads http, express, pg or TypeORM, so that
// tracing (and error reporting) can hook those modules when they load. The configuration is
// read here, once, and main.ts takes it from here.
import { startInstrumentation } from '@keel/observability/instrument';
import { loadAppConfig } from './config/app-config';

export const { config } = startInstrumentation(loadAppConfig);
