import { Module } from '@nestjs/common';
import { AuthRoutesController } from '../routes/auth-routes.controller';
import { UsersRoutesController } from '../routes/users-routes.controller';
import { MeteredProxyService } from './metered-proxy.service';
import { ProxyService } from './proxy.service';

/** The gateway's public routes and the upstream client they share. */
@Module({
  controllers: [AuthRoutesController, UsersRoutesController],
  providers: [{ provide: ProxyService, useClass: MeteredProxyService }],
  exports: [ProxyService],
})
export class ProxyModule {}
