import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions, type EntitySchema, type MixedList } from 'typeorm';
import { type BaseConfig } from '../config/base-config';
import { APP_CONFIG } from '../config/app-config.constants';
import { runMigrationsLocked } from './run-migrations';

export interface DatabaseModuleOptions {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
}

/** Builds TypeORM options for the configured driver: one code path, two drivers. */
export function typeOrmOptions(
  config: BaseConfig,
  options: DatabaseModuleOptions,
): TypeOrmModuleOptions {
  const common = {
    entities: options.entities,
    migrations: options.migrations,
    // Run by DatabaseModule under a lock before the data source is handed out (see below).
    migrationsRun: false,
    // Apps may share one PostgreSQL database in small deployments: one history table each.
    migrationsTableName: `${config.app.replace(/-/g, '_')}_migrations`,
    synchronize: false,
    // Start-up should fail fast when the database is unreachable, not retry for minutes.
    retryAttempts: 2,
    retryDelay: 500,
  } as const;
  if (config.database.kind === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: config.database.url,
      poolSize: config.database.poolSize,
      extra: { max: config.database.poolSize, connectionTimeoutMillis: 3000 },
    };
  }
  mkdirSync(dirname(config.database.file), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: config.database.file,
    // WAL lets readers continue while a write is in progress.
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  };
}

/** TypeORM for an app: SQLite under `KEEL_DATA_DIR` by default, PostgreSQL by `DATABASE_URL`. */
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: BaseConfig) => typeOrmOptions(config, options),
          // Migrations finish before any provider can use the data source.
          dataSourceFactory: async (dataSourceOptions?: DataSourceOptions) => {
            const dataSource = await new DataSource(dataSourceOptions!).initialize();
            await runMigrationsLocked(dataSource);
            return dataSource;
          },
        }),
      ],
    };
  }
}
