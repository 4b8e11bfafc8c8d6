import { Controller, Get, Param, Patch, Req, Res } from '@nestjs/common';
import { Roles } from '@keel/security';
import { type Request, type Response } from 'express';
import { ProxyService } from '../proxy/proxy.service';

/**
 * `/api/v1/users/*` (CONTRACT §3), one explicit route per row, each forwarded to
 * users-service; every route needs a valid bearer token, checked here before any upstream
 * call.
 */
@Controller('api/v1/users')
export class UsersRoutesController {
  constructor(private readonly proxy: ProxyService) {}

  @Get('me')
  me(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res, 'users-service', '/users/me');
  }

  @Patch('me')
  updateMe(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res, 'users-service', '/users/me');
  }

  @Get(':id')
  profile(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    // Dots encoded too, so that `..` stays a (bad) id and can never become a path segment.
    const segment = encodeURIComponent(id).replace(/\./g, '%2E');
    return this.proxy.forward(req, res, 'users-service', `/users/${segment}`);
  }

  /** Admin listing; the role is checked at the edge too, so a normal user costs no upstream call. */
  @Roles('admin')
  @Get()
  list(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res, 'users-service', '/users');
  }
}
