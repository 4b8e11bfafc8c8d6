import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { MetricsService } from './metrics.service';

type PoolState = 'idle' | 'busy' | 'waiting';

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Connections of `dataSource` by state, or `undefined` when it has no pool to report. */
export function poolState(dataSource: DataSource): Record<PoolState, number> | undefined {
  if (!dataSource.isInitialized) {
    return undefined;
  }
  if (dataSource.options.type === 'postgres') {
    const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
    if (!pool) {
      return undefined;
    }
    return {
      idle: pool.idleCount,
      busy: pool.totalCount - pool.idleCount,
      waiting: pool.waitingCount,
    };
  }
  // better-sqlite3 is one synchronous connection: whenever a scrape runs it is idle.
  return { idle: 1, busy: 0, waiting: 0 };
}

/**
 * `db_pool_connections{state}` from the app's TypeORM data source, read at each scrape.
 * Apps without a database (the gateway) get no such series.
 */
@Injectable()
export class DbPoolCollector implements OnApplicationBootstrap {
  private static current: DataSource | undefined;

  constructor(
    private readonly metrics: MetricsService,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    const dataSource = this.findDataSource();
    if (!dataSource) {
      return;
    }
    // A process holds one data source in production; in a test process that builds several
    // apps the latest one is reported (the gauge is shared, declared once).
    DbPoolCollector.current = dataSource;
    this.metrics.gauge<'state'>({
      name: 'db_pool_connections',
      help: 'Database connections of this process by state (idle, busy, waiting for one).',
      labelNames: ['state'],
      collect: (gauge) => {
        const state = DbPoolCollector.current && poolState(DbPoolCollector.current);
        if (state) {
          for (const [name, value] of Object.entries(state)) {
            gauge.set({ state: name }, value);
          }
        }
      },
    });
  }

  private findDataSource(): DataSource | undefined {
    try {
      return this.moduleRef.get(DataSource, { strict: false });
    } catch {
      return undefined;
    }
  }
}
