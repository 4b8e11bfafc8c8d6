import { type Profile } from '../profile.entity';

/** A profile as its owner and admins see it (`GET /users/me`, the admin listing). */
export interface ProfileDto {
  id: string;
  email: string;
  displayName: string;
  bio: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A profile as any signed-in user sees it (`GET /users/:id`): no email, no timestamps. */
export interface PublicProfileDto {
  id: string;
  displayName: string;
  bio: string | null;
}

/** One page of the admin listing; `nextCursor` is null on the last page. */
export interface ProfilePageDto {
  items: ProfileDto[];
  nextCursor: string | null;
}

export function toProfileDto(profile: Profile): ProfileDto {
  return {
    id: profile.id,
    email: profile.email,
    displayName: profile.displayName,
    bio: profile.bio,
    createdAt: profile.createdAt.toISOString(),
    updatedAt: profile.updatedAt.toISOString(),
  };
}

export function toPublicProfileDto(profile: Profile): PublicProfileDto {
  return { id: profile.id, displayName: profile.displayName, bio: profile.bio };
}
