import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { MeteredProxyService } from '../proxy/metered-proxy.service';
import { ProxyService } from '../proxy/proxy.service';
import { GatewayMetrics } from './gateway-metrics';
import { GatewayRouterMiddleware } from './gateway-router.middleware';
import { type RouteTable } from './route-table';
import { ROUTE_TABLE } from './routing.constants';

/**
 * The gateway's public routes, built from the registry at start, and the upstream client
 * they share. Imported by {@link ProxyModule}, two levels below the root, so that its
 * middleware runs after every other (Nest orders middleware by module depth): the request
 * already has its context, admission decision, access log, compression, security headers
 * and parsed body.
 */
@Module({})
export class RoutingModule implements NestModule {
  static forRoot(table: RouteTable): DynamicModule {
    return {
      module: RoutingModule,
      providers: [
        { provide: ProxyService, useClass: MeteredProxyService },
        { provide: ROUTE_TABLE, useValue: table },
        GatewayMetrics,
        GatewayRouterMiddleware,
      ],
      exports: [ProxyService, ROUTE_TABLE],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(GatewayRouterMiddleware).forRoutes('*');
  }
}
