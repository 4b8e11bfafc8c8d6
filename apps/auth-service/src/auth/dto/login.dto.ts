import { Transform } from 'class-transformer';
import { IsString, Length, MaxLength } from 'class-validator';

export class LoginDto {
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @Length(1, 254)
  @IsString()
  email!: string;

  @MaxLength(128)
  @IsString()
  password!: string;
}
