import { type DynamicModule, Module } from '@nestjs/common';
import { MeteredProxyService } from '../proxy/metered-proxy.service';
import { ProxyService } from '../proxy/proxy.service';
import { GatewayMetrics } from './gateway-metrics';
import { GatewayEdge } from './gateway-edge';
import { type RouteTable } from './route-table';
import { ROUTE_TABLE } from './routing.constants';

/**
 * The gateway's public routes, built from the registry at start, the upstream client they
 * share, and {@link GatewayEdge}, which serves them in front of Express's router.
 */
@Module({})
export class RoutingModule {
  static forRoot(table: RouteTable): DynamicModule {
    return {
      module: RoutingModule,
      providers: [
        { provide: ProxyService, useClass: MeteredProxyService },
        { provide: ROUTE_TABLE, useValue: table },
        GatewayMetrics,
        GatewayEdge,
      ],
      exports: [ProxyService, ROUTE_TABLE],
    };
  }
}
