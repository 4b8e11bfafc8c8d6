import {
  Body,
  Controller,
  Delete,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import { InternalTokenGuard, Public } from '@keel/security';
import { type Response } from 'express';
import { CreateProfileDto } from './dto/create-profile.dto';
import { type ProfileDto } from './dto/profile.dto';
import { ProfilesService } from './profiles.service';

/**
 * Called by auth-service only, never routed by the gateway. `@Public()` opts out of the
 * bearer-token guard; the shared internal token is the credential instead.
 */
@Public()
@UseGuards(InternalTokenGuard)
@Controller('internal/users')
export class InternalUsersController {
  constructor(private readonly profiles: ProfilesService) {}

  /** 201 with the new profile, or 200 with the existing one when the call is a retry. */
  @Post()
  async create(
    @Body() dto: CreateProfileDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProfileDto> {
    const { profile, created } = await this.profiles.create(dto);
    res.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return profile;
  }

  /** Compensation for a registration that failed after the profile was made; always 204. */
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async remove(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.profiles.remove(id);
  }
}
