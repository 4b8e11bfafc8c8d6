import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { normalizeEmail } from '@keel/platform';
import { RegisterDto } from './register.dto';

async function errorsFor(body: Record<string, unknown>): Promise<string[]> {
  const dto = plainToInstance(RegisterDto, body);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  return errors.map((error) => error.property);
}

const valid = { email: 'ada@example.com', password: 'correct horse', displayName: 'Ada' };

describe(RegisterDto.name, () => {
  it('accepts a valid registration', async () => {
    expect(await errorsFor(valid)).toEqual([]);
  });

  it.each([
    ['9 characters', 'x'.repeat(9), ['password']],
    ['10 characters', 'x'.repeat(10), []],
    ['128 characters', 'x'.repeat(128), []],
    ['129 characters', 'x'.repeat(129), ['password']],
  ])('password policy: %s', async (_label, password, expected) => {
    expect(await errorsFor({ ...valid, password })).toEqual(expected);
  });

  it('refuses bad emails, control characters and unknown properties', async () => {
    expect(await errorsFor({ ...valid, email: 'not-an-email' })).toEqual(['email']);
    expect(await errorsFor({ ...valid, displayName: 'Ada\u0000' })).toEqual(['displayName']);
    expect(await errorsFor({ ...valid, roles: ['admin'] })).toEqual(['roles']);
    expect(await errorsFor({ ...valid, password: 12345678901 })).toEqual(['password']);
  });
});

describe('normalizeEmail', () => {
  it('trims and lower-cases', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM ')).toBe('ada.lovelace@example.com');
  });
});
