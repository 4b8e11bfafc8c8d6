import { Controller, Get, Param, ParseUUIDPipe, Patch, Req, Res } from '@nestjs/common';
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

  /**
   * Only a UUID passes (400 otherwise, as users-service answers), so no spelling such as
   * `m%65` can turn into another upstream route (`/users/me`) or a path segment (`..`).
   */
  @Get(':id')
  profile(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    return this.proxy.forward(req, res, 'users-service', `/users/${id}`);
  }

  /** Admin listing; the role is checked at the edge too, so a normal user costs no upstream call. */
  @Roles('admin')
  @Get()
  list(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res, 'users-service', '/users');
  }
}
