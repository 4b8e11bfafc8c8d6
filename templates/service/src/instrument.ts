// Loaded first by main.ts, before anything that loads http, express, pg or TypeORM, so that
// tracing (and error reporting) can hook those modules when they load.
import { startInstrumentation } from '@keel/observability/instrument';
import { version } from '../../../package.json';

startInstrumentation({ serviceName: 'tpl-service', version });
