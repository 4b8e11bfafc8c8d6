import { Controller, Get, HttpStatus, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorFunction,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { type Request, type Response } from 'express';
import { errorBody } from '../errors/error-body';
import { resolveRequestId } from '../logging/request-id';
import { activeTraceIds } from '../tracing/trace-ids';
import { DependencyMonitor, type DependencyStatus } from './dependency.monitor';
import { ReadinessState } from './readiness.state';

/** The 200 body: terminus' result for the owned checks plus the shared dependencies. */
export type ReadyBody = HealthCheckResult & { dependencies: Record<string, DependencyStatus> };

/** The 503 body: the contract's error fields plus terminus' per-check details. */
export interface NotReadyBody {
  statusCode: number;
  error: string;
  message: string;
  requestId: string;
  traceId: string;
  status: HealthCheckResult['status'];
  details: HealthCheckResult['details'];
  dependencies: Record<string, DependencyStatus>;
}

/**
 * `GET /health/live` (the process runs) and `GET /health/ready` (this instance can serve:
 * started, not draining, its own database answering). Shared dependencies (Redis, the
 * gateway's upstreams) are reported under `dependencies` and never turn readiness 503
 * (CONTRACT §4). Open to everyone; the guard and the access log let `/health/*` through.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly readiness: ReadinessState,
    private readonly monitor: DependencyMonitor,
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
  ): Promise<ReadyBody | NotReadyBody> {
    res.setHeader('cache-control', 'no-store');
    let checks: HealthIndicatorFunction[];
    let dependencies: Record<string, DependencyStatus> = {};
    if (this.readiness.draining) {
      checks = [() => this.indicator.check('shutdown').down({ message: 'Draining before exit' })];
    } else {
      const report = await this.monitor.check();
      dependencies = report.shared;
      checks = Object.entries(report.owned).map(([name, { status, message }]) => () => {
        const check = this.indicator.check(name);
        return status === 'up' ? check.up() : check.down({ message });
      });
    }
    try {
      return { ...(await this.health.check(checks)), dependencies };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) {
        throw error;
      }
      const result = error.getResponse() as HealthCheckResult;
      const failing = Object.keys(result.error ?? {});
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return {
        ...errorBody(
          HttpStatus.SERVICE_UNAVAILABLE,
          `Not ready: ${failing.join(', ') || 'unknown'} down`,
          resolveRequestId(req, res),
          activeTraceIds()?.traceId,
        ),
        status: result.status,
        details: result.details,
        dependencies,
      };
    }
  }
}
