import { Test } from '@nestjs/testing';
import { OBSERVABILITY_OPTIONS } from './observability.module-definition';
import { ObservabilityModule } from './observability.module';

describe(ObservabilityModule.name, () => {
  it('is configured with forRoot only: there is no forRootAsync to half-work', () => {
    expect(ObservabilityModule).not.toHaveProperty('forRootAsync');
    expect(ObservabilityModule).not.toHaveProperty('registerAsync');
  });

  it('hands the forRoot options to its providers', async () => {
    const options = {
      serviceName: 'module-spec',
      version: '0.0.0',
      logLevel: 'silent' as const,
      logFormat: 'json' as const,
    };
    const moduleRef = await Test.createTestingModule({
      imports: [ObservabilityModule.forRoot(options)],
    }).compile();

    expect(moduleRef.get(OBSERVABILITY_OPTIONS)).toBe(options);
    await moduleRef.close();
  });
});
