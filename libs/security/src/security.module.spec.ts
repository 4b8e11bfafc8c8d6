import { Test } from '@nestjs/testing';
import { SecurityModule } from './security.module';
import { SECURITY_OPTIONS } from './security.module-definition';

describe(SecurityModule.name, () => {
  it('is configured with forRoot only: there is no forRootAsync to half-work', () => {
    expect(SecurityModule).not.toHaveProperty('forRootAsync');
    expect(SecurityModule).not.toHaveProperty('registerAsync');
  });

  it('hands the forRoot options to its providers', async () => {
    const options = { corsOrigins: ['https://app.example'], bodyLimitBytes: 1024 };
    const moduleRef = await Test.createTestingModule({
      imports: [SecurityModule.forRoot(options)],
    }).compile();

    expect(moduleRef.get(SECURITY_OPTIONS)).toBe(options);
    await moduleRef.close();
  });
});
