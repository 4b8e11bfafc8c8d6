import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length, Matches, MaxLength, ValidateIf } from 'class-validator';
import { BIO_MAX_LENGTH, DISPLAY_NAME_MAX_LENGTH } from '../profile.constants';
import { NO_CONTROL_CHARS, trim } from '@keel/platform';
import { BIO_CHARS } from '../text';

/**
 * `PATCH /users/me`. Both fields are optional and an empty body is allowed: it changes
 * nothing and answers the profile as it is (a PATCH with no changes is a no-op, not an
 * error). Unknown properties are refused by the platform's ValidationPipe.
 */
export class UpdateProfileDto {
  // `@IsOptional()` would also let `null` through; a display name can't be removed.
  @ValidateIf((_dto: UpdateProfileDto, value: unknown) => value !== undefined)
  @Transform(trim)
  @Length(1, DISPLAY_NAME_MAX_LENGTH)
  @Matches(NO_CONTROL_CHARS, { message: 'displayName must not contain control characters' })
  @IsString()
  displayName?: string;

  /** `null` or a blank string clears the bio. */
  @IsOptional()
  @Transform(trim)
  @MaxLength(BIO_MAX_LENGTH)
  @Matches(BIO_CHARS, { message: 'bio must not contain control characters' })
  @IsString()
  bio?: string | null;
}
