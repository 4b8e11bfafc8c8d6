import { ValidationPipe } from '@nestjs/common';

/**
 * The platform's one ValidationPipe: unknown properties are refused, values transformed to
 * their DTO types, nested objects validated, and one message per property.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
  });
}
