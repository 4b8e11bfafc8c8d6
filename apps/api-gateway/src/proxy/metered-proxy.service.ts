import { Inject, Injectable } from '@nestjs/common';
import { type Counter } from 'prom-client';
import { type DurationHistogram, MetricsService } from '@keel/observability';
import { APP_CONFIG } from '@keel/platform';
import { type GatewayConfig } from '../config/gateway-config';
import { ProxyService, type UpstreamName } from './proxy.service';

/** `status_code` of an upstream call that got no answer (refused, timed out, reset). */
export const NO_UPSTREAM_ANSWER = 'none';

/**
 * The proxy, measured: every upstream call timed in
 * `gateway_upstream_request_duration_seconds{upstream,method,status_code}` with the trace id as
 * exemplar; each pool's connections in `gateway_upstream_connections{upstream,state}`; the
 * answers it compressed in `gateway_response_compression_total{encoding}` and their sizes
 * before and after in `gateway_response_compression_bytes_total{stage}`.
 */
@Injectable()
export class MeteredProxyService extends ProxyService {
  private readonly duration: DurationHistogram<'upstream' | 'method' | 'status_code'>;
  private readonly compressedAnswers: Counter<'encoding'>;
  private readonly compressionBytes: Counter<'stage'>;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig, metrics: MetricsService) {
    super(config);
    this.duration = metrics.histogram({
      name: 'gateway_upstream_request_duration_seconds',
      help: 'Duration of calls from the gateway to its upstreams.',
      labelNames: ['upstream', 'method', 'status_code'],
    });
    this.compressedAnswers = metrics.counter({
      name: 'gateway_response_compression_total',
      help: 'Proxied answers the gateway compressed, by content coding.',
      labelNames: ['encoding'],
    });
    this.compressionBytes = metrics.counter({
      name: 'gateway_response_compression_bytes_total',
      help: 'Bytes of the answers the gateway compressed, before (uncompressed) and after (compressed).',
      labelNames: ['stage'],
    });
    // Every series exists from the start, so dashboards and alerts see 0 rather than nothing.
    for (const encoding of ['br', 'gzip', 'deflate']) {
      this.compressedAnswers.inc({ encoding }, 0);
    }
    this.compressionBytes.inc({ stage: 'uncompressed' }, 0);
    this.compressionBytes.inc({ stage: 'compressed' }, 0);
    // The pools' state at each scrape: connections busy and idle, requests waiting for one.
    metrics.gauge<'upstream' | 'state'>({
      name: 'gateway_upstream_connections',
      help: 'Keep-alive connections to each upstream by state (busy, idle), and requests waiting for one (waiting).',
      labelNames: ['upstream', 'state'],
      collect: (gauge) => {
        for (const { upstream, stats } of this.poolStats()) {
          gauge.set({ upstream, state: 'busy' }, stats.connected - stats.free);
          gauge.set({ upstream, state: 'idle' }, stats.free);
          gauge.set({ upstream, state: 'waiting' }, stats.pending);
        }
      },
    });
  }

  protected override observeCompression(encoding: string, before: Buffer, after: Buffer): void {
    this.compressedAnswers.inc({ encoding });
    this.compressionBytes.inc({ stage: 'uncompressed' }, before.length);
    this.compressionBytes.inc({ stage: 'compressed' }, after.length);
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
