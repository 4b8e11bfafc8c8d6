import { config } from './instrument';
import { bootstrap, runMain } from '@keel/platform';
import { AppModule } from './app.module';

runMain(() => bootstrap(AppModule.forRoot(config), config));
