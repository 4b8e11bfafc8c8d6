import { type ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';

/**
 * The platform's ValidationPipe: a `@Body()` DTO must be a JSON object (not missing,
 * `null` or an array), unknown properties are refused, values transformed to their DTO
 * types, nested objects validated, and one message per property.
 */
export class PlatformValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      stopAtFirstError: true,
      validationError: { target: false, value: false },
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (
      metadata.type === 'body' &&
      metadata.data === undefined &&
      this.toValidate(metadata) &&
      (value === null || typeof value !== 'object' || Array.isArray(value))
    ) {
      throw new BadRequestException('Request body must be a JSON object');
    }
    return super.transform(value, metadata);
  }
}

/** The global pipe every app registers (through `SecurityModule`). */
export function createValidationPipe(): ValidationPipe {
  return new PlatformValidationPipe();
}
