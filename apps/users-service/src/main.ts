import './instrument';
import { bootstrap, runMain } from '@keel/platform';
import { AppModule } from './app.module';
import { loadUsersConfig } from './config/users-config';

runMain(async () => {
  const config = loadUsersConfig(process.env);
  await bootstrap(AppModule.forRoot(config), config);
});
