import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { Public } from '@keel/security';
import { type Request, type Response } from 'express';
import { ProxyService } from '../proxy/proxy.service';

/**
 * `/api/v1/auth/*` (CONTRACT §3), one explicit route per row, each forwarded to
 * auth-service. Anything not listed is a 404 here and never reaches auth-service.
 */
@Controller('api/v1/auth')
export class AuthRoutesController {
  constructor(private readonly proxy: ProxyService) {}

  @Public()
  @Post('register')
  register(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res, 'auth-service', '/auth/register');
  }

  @Public()
  @Post('login')
  login(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res, 'auth-service', '/auth/login');
  }

  @Public()
  @Post('refresh')
  refresh(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res, 'auth-service', '/auth/refresh');
  }

  @Post('logout')
  logout(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res, 'auth-service', '/auth/logout');
  }

  @Get('me')
  me(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.proxy.forward(req, res, 'auth-service', '/auth/me');
  }
}
