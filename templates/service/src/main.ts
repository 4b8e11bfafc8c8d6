import './instrument';
import { bootstrap, runMain } from '@keel/platform';
import { AppModule } from './app.module';
import { loadAppConfig } from './config/app-config';

runMain(async () => {
  const config = loadAppConfig(process.env);
  await bootstrap(AppModule.forRoot(config), config);
});
