import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Query } from '@nestjs/common';
import { type AuthenticatedUser, CurrentUser, Roles } from '@keel/security';
import { ListProfilesQueryDto } from './dto/list-profiles-query.dto';
import { type ProfileDto, type ProfilePageDto, type PublicProfileDto } from './dto/profile.dto';
import { UpdateProfileDto } from './dto/update-profile.dto';
import { ProfilesService } from './profiles.service';

/** The public profile API; every route needs a bearer token (the global JwtAuthGuard). */
@Controller('users')
export class UsersController {
  constructor(private readonly profiles: ProfilesService) {}

  @Get()
  @Roles('admin')
  async list(@Query() query: ListProfilesQueryDto): Promise<ProfilePageDto> {
    return this.profiles.list(query.limit, query.cursor);
  }

  // Declared before `:id`, which would otherwise take `me` and refuse it as a non-UUID.
  @Get('me')
  async me(@CurrentUser() user: AuthenticatedUser): Promise<ProfileDto> {
    return this.profiles.get(user.id);
  }

  @Patch('me')
  async updateMe(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: UpdateProfileDto,
  ): Promise<ProfileDto> {
    return this.profiles.update(user.id, dto);
  }

  @Get(':id')
  async getPublic(@Param('id', new ParseUUIDPipe()) id: string): Promise<PublicProfileDto> {
    return this.profiles.getPublic(id);
  }
}
