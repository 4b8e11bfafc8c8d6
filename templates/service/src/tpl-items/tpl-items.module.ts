import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TplItem } from './tpl-item.entity';
import { TplItemsController } from './tpl-items.controller';
import { TplItemsService } from './tpl-items.service';

@Module({
  imports: [TypeOrmModule.forFeature([TplItem])],
  controllers: [TplItemsController],
  providers: [TplItemsService],
})
export class TplItemsModule {}
