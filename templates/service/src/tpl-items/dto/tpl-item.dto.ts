import { type TplItem } from '../tpl-item.entity';

/** A record as its owner sees it. */
export interface TplItemDto {
  id: string;
  name: string;
  createdAt: string;
}

export function toTplItemDto(entity: TplItem): TplItemDto {
  return { id: entity.id, name: entity.name, createdAt: entity.createdAt.toISOString() };
}
