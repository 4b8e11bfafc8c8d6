import { Module } from '@nestjs/common';
import { AuthRoutesController } from '../routes/auth-routes.controller';
import { UsersRoutesController } from '../routes/users-routes.controller';
import { ProxyService } from './proxy.service';

/** The gateway's public routes and the upstream client they share. */
@Module({
  controllers: [AuthRoutesController, UsersRoutesController],
  providers: [ProxyService],
  exports: [ProxyService],
})
export class ProxyModule {}
