import { SetMetadata } from '@nestjs/common';
import { ROLES_KEY } from './auth.constants';

/** The caller's token must carry at least one of these roles. */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_KEY, roles);
