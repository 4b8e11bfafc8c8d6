import { ConfigurableModuleBuilder } from '@nestjs/common';
import { type ObservabilityModuleOptions } from './observability-options.interface';

export const {
  ConfigurableModuleClass: ObservabilityConfigurableModule,
  MODULE_OPTIONS_TOKEN: OBSERVABILITY_OPTIONS,
} = new ConfigurableModuleBuilder<ObservabilityModuleOptions>()
  .setClassMethodName('forRoot')
  .build();
