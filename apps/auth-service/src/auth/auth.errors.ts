import { HttpStatus } from '@nestjs/common';
import { DomainException } from '@keel/platform';

export const AuthErrors = {
  emailTaken: () =>
    new DomainException('EMAIL_TAKEN', HttpStatus.CONFLICT, 'Email is already registered'),
  invalidCredentials: () =>
    new DomainException(
      'INVALID_CREDENTIALS',
      HttpStatus.UNAUTHORIZED,
      'Invalid email or password',
    ),
  invalidRefreshToken: () =>
    new DomainException('INVALID_REFRESH_TOKEN', HttpStatus.UNAUTHORIZED, 'Invalid refresh token'),
  profileServiceUnavailable: () =>
    new DomainException(
      'PROFILE_SERVICE_UNAVAILABLE',
      HttpStatus.SERVICE_UNAVAILABLE,
      'Registration is temporarily unavailable; please retry',
    ),
};
