import { Transform } from 'class-transformer';
import { IsEmail, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';
import { DISPLAY_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH } from '../profile.constants';
import { NO_CONTROL_CHARS, trim } from '@keel/platform';

/** `POST /internal/users`: auth-service creating the profile of a user it just registered. */
export class CreateProfileDto {
  @IsUUID('all', { message: 'id must be a UUID' })
  @IsString()
  id!: string;

  @Transform(trim)
  @MaxLength(EMAIL_MAX_LENGTH)
  @IsEmail({}, { message: 'email must be an email address' })
  @IsString()
  email!: string;

  @Transform(trim)
  @Length(1, DISPLAY_NAME_MAX_LENGTH)
  @Matches(NO_CONTROL_CHARS, { message: 'displayName must not contain control characters' })
  @IsString()
  displayName!: string;
}
