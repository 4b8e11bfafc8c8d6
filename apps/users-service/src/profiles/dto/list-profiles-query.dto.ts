import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT } from '../profile.constants';

/** `GET /users?limit=&cursor=`; other query parameters are refused. */
export class ListProfilesQueryDto {
  @IsOptional()
  @Type(() => Number)
  @Max(LIST_MAX_LIMIT)
  @Min(1)
  @IsInt({ message: 'limit must be a whole number' })
  limit: number = LIST_DEFAULT_LIMIT;

  /** Opaque: the `nextCursor` of the previous page. */
  @IsOptional()
  @MaxLength(256)
  @IsString()
  cursor?: string;
}
