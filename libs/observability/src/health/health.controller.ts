import {
  Controller,
  Get,
  HttpStatus,
  Inject,
  Req,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorFunction,
  type HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { type Request, type Response } from 'express';
import { DataSource } from 'typeorm';
import { statusText } from '../errors/error-body';
import { resolveRequestId } from '../logging/request-id';
import { OBSERVABILITY_OPTIONS } from '../observability.module-definition';
import { type ObservabilityModuleOptions } from '../observability-options.interface';
import { activeTraceIds } from '../tracing/trace-ids';
import { READINESS_CHECK_TIMEOUT_MS } from './health.constants';
import { pingDatabase, probeLive, untraced, withTimeout } from './readiness-checks';
import { ReadinessState } from './readiness.state';
import { RedisHealthClient } from './redis-health.client';

/** The 503 body: the contract's error fields plus terminus' per-check details. */
export interface NotReadyBody {
  statusCode: number;
  error: string;
  message: string;
  requestId: string;
  traceId: string;
  status: HealthCheckResult['status'];
  details: HealthCheckResult['details'];
}

/**
 * `GET /health/live` (the process runs) and `GET /health/ready` (its dependencies answer:
 * the database when the app has one, Redis when configured, the gateway's upstreams).
 * Open to everyone; the guard and the access log let `/health/*` through.
 */
@Controller('health')
export class HealthController {
  private dataSource: DataSource | null | undefined;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly readiness: ReadinessState,
    private readonly redis: RedisHealthClient,
    private readonly moduleRef: ModuleRef,
    @Inject(OBSERVABILITY_OPTIONS) private readonly options: ObservabilityModuleOptions,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  async ready(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<HealthCheckResult | NotReadyBody> {
    res.setHeader('cache-control', 'no-store');
    const checks = this.readiness.draining
      ? [() => this.indicator.check('shutdown').down({ message: 'Draining before exit' })]
      : this.checks();
    try {
      return await untraced(() => this.health.check(checks));
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) {
        throw error;
      }
      const result = error.getResponse() as HealthCheckResult;
      const failing = Object.keys(result.error ?? {});
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: statusText(HttpStatus.SERVICE_UNAVAILABLE),
        message: `Not ready: ${failing.join(', ') || 'unknown'} down`,
        requestId: resolveRequestId(req, res),
        traceId: activeTraceIds()?.traceId ?? '',
        status: result.status,
        details: result.details,
      };
    }
  }

  /** The readiness checks of this app, in a fixed order. */
  protected checks(): HealthIndicatorFunction[] {
    const checks: HealthIndicatorFunction[] = [];
    const dataSource = this.findDataSource();
    if (dataSource) {
      checks.push(() => this.run('database', () => pingDatabase(dataSource)));
    }
    if (this.redis.configured) {
      checks.push(() => this.run('redis', () => this.redis.ping()));
    }
    for (const upstream of this.options.health?.upstreams ?? []) {
      checks.push(() =>
        this.run(upstream.name, () => probeLive(upstream.url, READINESS_CHECK_TIMEOUT_MS)),
      );
    }
    return checks;
  }

  private async run(key: string, probe: () => Promise<void>): Promise<HealthIndicatorResult> {
    const check = this.indicator.check(key);
    try {
      await withTimeout(probe(), READINESS_CHECK_TIMEOUT_MS);
      return check.up();
    } catch (error) {
      return check.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }

  private findDataSource(): DataSource | undefined {
    if (this.dataSource === undefined) {
      try {
        this.dataSource = this.moduleRef.get(DataSource, { strict: false });
      } catch {
        this.dataSource = null;
      }
    }
    return this.dataSource ?? undefined;
  }
}
