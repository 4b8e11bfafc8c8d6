import { NO_CONTROL_CHARS, trim } from '@keel/platform';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, Matches, MaxLength } from 'class-validator';

export class RegisterDto {
  @Transform(trim)
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  @IsString()
  email!: string;

  @Length(10, 128, { message: 'password must be 10 to 128 characters' })
  @IsString()
  password!: string;

  @Transform(trim)
  @Length(1, 100)
  @Matches(NO_CONTROL_CHARS, { message: 'displayName must not contain control characters' })
  @IsString()
  displayName!: string;
}
