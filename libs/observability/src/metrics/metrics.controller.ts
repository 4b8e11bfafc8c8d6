import { Controller, Get, Req, Res } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import { type Request, type Response } from 'express';
import { CONTENT_TYPES, negotiateFormat } from './metrics-exposition';
import { MetricsService } from './metrics.service';

/**
 * `GET /metrics` (the path is set by `PrometheusModule`): the classic text format, or
 * OpenMetrics with exemplars when the scraper's `Accept` asks for it.
 */
@Controller()
export class MetricsController extends PrometheusController {
  constructor(private readonly metrics: MetricsService) {
    super();
  }

  @Get()
  override async index(@Res() response: Response, @Req() request?: Request): Promise<string> {
    const format = negotiateFormat(request?.headers.accept);
    const body = await this.metrics.render(format);
    // Written directly: Express would rewrite the content type's parameters.
    response.setHeader('content-type', CONTENT_TYPES[format]);
    response.setHeader('vary', 'accept');
    response.setHeader('cache-control', 'no-store');
    response.end(body);
    // Ignored by Nest (the response is already sent); kept for the base class' signature.
    return body;
  }
}
