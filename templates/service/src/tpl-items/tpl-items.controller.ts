import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { type AuthenticatedUser, CurrentUser } from '@keel/security';
import { CreateTplItemDto } from './dto/create-tpl-item.dto';
import { type TplItemDto } from './dto/tpl-item.dto';
import { TplItemsService } from './tpl-items.service';

/**
 * `/tpl-items`, routed by the gateway as `/api/v1/tpl-items` (services.json). Every route
 * needs a bearer token (the global JwtAuthGuard); `@Public()` or `@Roles()` change that here
 * and in the registry entry alike.
 */
@Controller('tpl-items')
export class TplItemsController {
  constructor(private readonly service: TplItemsService) {}

  @Get()
  list(@CurrentUser() user: AuthenticatedUser): Promise<TplItemDto[]> {
    return this.service.list(user.id);
  }

  @Post()
  create(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: CreateTplItemDto,
  ): Promise<TplItemDto> {
    return this.service.create(user.id, dto);
  }

  @Get(':id')
  get(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<TplItemDto> {
    return this.service.get(user.id, id);
  }
}
