import './instrument';
import { bootstrap, runMain } from '@keel/platform';
import { AppModule } from './app.module';
import { loadAuthConfig } from './config/auth-config';

runMain(async () => {
  const config = loadAuthConfig(process.env);
  await bootstrap(AppModule.forRoot(config), config);
});
