import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { InternalTokenGuard } from './internal-token.guard';
import { InternalUsersController } from './internal-users.controller';
import { ProfileCache } from './profile-cache.service';
import { Profile } from './profile.entity';
import { ProfilesService } from './profiles.service';
import { UsersController } from './users.controller';

@Module({
  imports: [TypeOrmModule.forFeature([Profile])],
  controllers: [UsersController, InternalUsersController],
  providers: [ProfilesService, ProfileCache, InternalTokenGuard],
})
export class ProfilesModule {}
