import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Traced } from '@keel/observability';
import { type Repository } from 'typeorm';
import { type CreateTplItemDto } from './dto/create-tpl-item.dto';
import { toTplItemDto, type TplItemDto } from './dto/tpl-item.dto';
import { TplItem } from './tpl-item.entity';
import { TplItemErrors } from './tpl-items.errors';

/** Most records one listing answers. */
export const LIST_LIMIT = 100;

/** tpl-service's records: each user creates, lists and reads their own. */
@Injectable()
export class TplItemsService {
  constructor(@InjectRepository(TplItem) private readonly repository: Repository<TplItem>) {}

  /** A span of its own (`TplItemsService.create`) under the request's span. */
  @Traced()
  async create(ownerId: string, dto: CreateTplItemDto): Promise<TplItemDto> {
    const entity: TplItem = {
      id: randomUUID(),
      ownerId,
      name: dto.name,
      createdAt: new Date(),
    };
    await this.repository.insert(entity);
    return toTplItemDto(entity);
  }

  /** The owner's newest records first. */
  async list(ownerId: string): Promise<TplItemDto[]> {
    const rows = await this.repository.find({
      where: { ownerId },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: LIST_LIMIT,
    });
    return rows.map(toTplItemDto);
  }

  /** 404 for a record that does not exist and for another user's, alike. */
  async get(ownerId: string, id: string): Promise<TplItemDto> {
    // Ids are stored lower-cased; PostgreSQL's uuid type ignores case, SQLite's text does not.
    const found = await this.repository.findOneBy({ id: id.toLowerCase(), ownerId });
    if (!found) {
      throw TplItemErrors.notFound();
    }
    return toTplItemDto(found);
  }
}
