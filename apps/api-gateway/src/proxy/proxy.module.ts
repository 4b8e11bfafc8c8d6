import { type DynamicModule, Module } from '@nestjs/common';
import { type RouteTable } from '../routing/route-table';
import { RoutingModule } from '../routing/routing.module';

/**
 * The gateway's public routes (registry-driven, see {@link RoutingModule}) and the upstream
 * client they share.
 */
@Module({})
export class ProxyModule {
  static forRoot(table: RouteTable): DynamicModule {
    const routing = RoutingModule.forRoot(table);
    return { module: ProxyModule, imports: [routing], exports: [routing] };
  }
}
