import { HttpStatus } from '@nestjs/common';
import { DomainException } from '@keel/platform';

export const TplItemErrors = {
  notFound: () => new DomainException('TPL_ITEM_NOT_FOUND', HttpStatus.NOT_FOUND, 'Not found'),
};
