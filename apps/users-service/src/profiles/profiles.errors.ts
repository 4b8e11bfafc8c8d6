import { HttpStatus } from '@nestjs/common';
import { DomainException } from '@keel/platform';

export const ProfileErrors = {
  notFound: () =>
    new DomainException('PROFILE_NOT_FOUND', HttpStatus.NOT_FOUND, 'Profile not found'),
  emailTaken: () =>
    new DomainException(
      'EMAIL_TAKEN',
      HttpStatus.CONFLICT,
      'Email already belongs to another profile',
    ),
  idTaken: () =>
    new DomainException(
      'PROFILE_ID_CONFLICT',
      HttpStatus.CONFLICT,
      'A profile with this id already exists with another email',
    ),
  invalidCursor: () =>
    new DomainException('INVALID_CURSOR', HttpStatus.BAD_REQUEST, 'cursor is invalid'),
};
