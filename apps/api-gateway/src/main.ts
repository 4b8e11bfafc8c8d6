import './instrument';
import { bootstrap, runMain } from '@keel/platform';
import { AppModule } from './app.module';
import { loadGatewayConfig } from './config/gateway-config';

runMain(async () => {
  const config = loadGatewayConfig(process.env);
  await bootstrap(AppModule.forRoot(config), config);
});
