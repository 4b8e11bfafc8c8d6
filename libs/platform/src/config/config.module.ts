import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG } from './app-config.constants';
import { type BaseConfig } from './base-config';

/** Makes the app's validated configuration injectable everywhere as {@link APP_CONFIG}. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot<T extends BaseConfig>(config: T): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
