import { ConfigurableModuleBuilder } from '@nestjs/common';
import { type SecurityModuleOptions } from './security-options.interface';

export const {
  ConfigurableModuleClass: SecurityConfigurableModule,
  MODULE_OPTIONS_TOKEN: SECURITY_OPTIONS,
} = new ConfigurableModuleBuilder<SecurityModuleOptions>().setClassMethodName('forRoot').build();
