import { Controller, Get, Req, Res } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { CONTENT_TYPES, negotiateFormat } from './metrics-exposition';
import { MetricsService } from './metrics.service';

/**
 * `GET /metrics` (the path is set by `PrometheusModule`, which serves this controller in place
 * of its own): the classic text format, or OpenMetrics with exemplars when the scraper's
 * `Accept` asks for it.
 */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  async index(@Req() request: Request, @Res() response: Response): Promise<void> {
    const format = negotiateFormat(request.headers.accept);
    const body = await this.metrics.render(format);
    response.setHeader('content-type', CONTENT_TYPES[format]);
    response.setHeader('vary', 'accept');
    response.setHeader('cache-control', 'no-store');
    // Written directly: Express's send() would rewrite the content type's parameters.
    response.end(body);
  }
}
