import { Inject, Injectable } from '@nestjs/common';
import { type DurationHistogram, MetricsService } from '@keel/observability';
import { APP_CONFIG } from '@keel/platform';
import { type GatewayConfig } from '../config/gateway-config';
import { ProxyService, type UpstreamName } from './proxy.service';

/** `status_code` of an upstream call that got no answer (refused, timed out, reset). */
export const NO_UPSTREAM_ANSWER = 'none';

/**
 * The proxy, timing every upstream call in
 * `gateway_upstream_request_duration_seconds{upstream,method,status_code}` with the trace id
 * as exemplar.
 */
@Injectable()
export class MeteredProxyService extends ProxyService {
  private readonly duration: DurationHistogram<'upstream' | 'method' | 'status_code'>;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig, metrics: MetricsService) {
    super(config);
    this.duration = metrics.histogram({
      name: 'gateway_upstream_request_duration_seconds',
      help: 'Duration of calls from the gateway to its upstreams.',
      labelNames: ['upstream', 'method', 'status_code'],
    });
  }

  protected override observe(
    upstream: UpstreamName,
    method: string,
    statusCode: number | undefined,
    seconds: number,
  ): void {
    this.duration.observe(
      {
        upstream,
        method,
        status_code: statusCode === undefined ? NO_UPSTREAM_ANSWER : String(statusCode),
      },
      seconds,
    );
  }
}
