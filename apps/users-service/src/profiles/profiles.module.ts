import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { InternalTokenGuard } from '@keel/security';
import { InternalUsersController } from './internal-users.controller';
import { MeteredProfileCache } from './metered-profile-cache.service';
import { ProfileCache } from './profile-cache.service';
import { Profile } from './profile.entity';
import { ProfilesService } from './profiles.service';
import { UsersController } from './users.controller';

@Module({
  imports: [TypeOrmModule.forFeature([Profile])],
  controllers: [UsersController, InternalUsersController],
  providers: [
    ProfilesService,
    { provide: ProfileCache, useClass: MeteredProfileCache },
    InternalTokenGuard,
  ],
})
export class ProfilesModule {}
