import { Transform } from 'class-transformer';
import { IsString, Length, Matches } from 'class-validator';
import { NO_CONTROL_CHARS, trim } from '@keel/platform';

/** `POST /tpl-items`. Unknown properties are refused by the platform's ValidationPipe (400). */
export class CreateTplItemDto {
  @Transform(trim)
  @Length(1, 100)
  @Matches(NO_CONTROL_CHARS, { message: 'name must not contain control characters' })
  @IsString()
  name!: string;
}
