import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { type Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';
import { OBSERVABILITY_OPTIONS } from '../observability.module-definition';
import { type ObservabilityModuleOptions } from '../observability-options.interface';
import { DATABASE_CHECK, READINESS_CHECK_TIMEOUT_MS, REDIS_CHECK } from './health.constants';
import { pingDatabase, probeLive, untraced, withTimeout } from './readiness-checks';
import { RedisHealthClient } from './redis-health.client';

/** One dependency's state as shown in the readiness body. */
export interface DependencyStatus {
  status: 'up' | 'down';
  message?: string;
}

/** Every dependency of this app by name, plus which of them decide its readiness. */
export interface DependencyReport {
  /** Dependencies this instance cannot serve without (its own database). */
  owned: Record<string, DependencyStatus>;
  /** Shared dependencies it survives without (Redis; the gateway's upstreams). */
  shared: Record<string, DependencyStatus>;
}

/**
 * Probes the app's dependencies and publishes `keel_dependency_up{dependency}` (1/0). The
 * probes run on each readiness request and at each scrape, so the gauge is fresh whether or
 * not anything polls readiness. Only the owned database decides readiness (CONTRACT §4):
 * a shared dependency's outage must not take every replica out of rotation at once.
 */
@Injectable()
export class DependencyMonitor implements OnApplicationBootstrap {
  // One app per process in production; a test process that builds several reports the latest.
  private static current: DependencyMonitor | undefined;
  private dataSource: DataSource | null | undefined;
  private gauge: Gauge<'dependency'> | undefined;

  constructor(
    private readonly metrics: MetricsService,
    private readonly redis: RedisHealthClient,
    private readonly moduleRef: ModuleRef,
    @Inject(OBSERVABILITY_OPTIONS) private readonly options: ObservabilityModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    DependencyMonitor.current = this;
    this.gauge = this.metrics.gauge<'dependency'>({
      name: 'keel_dependency_up',
      help: 'Whether a dependency of this instance answered its last probe (1) or not (0).',
      labelNames: ['dependency'],
      collect: async () => {
        await DependencyMonitor.current?.check();
      },
    });
  }

  /** Probes every dependency in parallel (each within the readiness timeout). */
  async check(): Promise<DependencyReport> {
    const owned: Array<[string, () => Promise<void>]> = [];
    const shared: Array<[string, () => Promise<void>]> = [];
    const dataSource = this.findDataSource();
    if (dataSource) {
      owned.push([DATABASE_CHECK, () => pingDatabase(dataSource)]);
    }
    if (this.redis.configured) {
      shared.push([REDIS_CHECK, () => this.redis.ping()]);
    }
    for (const upstream of this.options.health?.upstreams ?? []) {
      shared.push([upstream.name, () => probeLive(upstream.url, READINESS_CHECK_TIMEOUT_MS)]);
    }
    const [ownedStatus, sharedStatus] = await untraced(() =>
      Promise.all([this.probeAll(owned), this.probeAll(shared)]),
    );
    // Replaced in one synchronous step, so a scrape never sees a half-updated set.
    this.gauge?.reset();
    for (const [name, { status }] of Object.entries({ ...ownedStatus, ...sharedStatus })) {
      this.gauge?.set({ dependency: name }, status === 'up' ? 1 : 0);
    }
    return { owned: ownedStatus, shared: sharedStatus };
  }

  private async probeAll(
    probes: Array<[string, () => Promise<void>]>,
  ): Promise<Record<string, DependencyStatus>> {
    const results = await Promise.all(
      probes.map(async ([name, probe]): Promise<[string, DependencyStatus]> => [
        name,
        await this.probe(probe),
      ]),
    );
    return Object.fromEntries(results);
  }

  private async probe(probe: () => Promise<void>): Promise<DependencyStatus> {
    try {
      await withTimeout(probe(), READINESS_CHECK_TIMEOUT_MS);
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', message: error instanceof Error ? error.message : String(error) };
    }
  }

  private findDataSource(): DataSource | undefined {
    if (this.dataSource === undefined) {
      try {
        this.dataSource = this.moduleRef.get(DataSource, { strict: false });
      } catch {
        this.dataSource = null;
      }
    }
    return this.dataSource ?? undefined;
  }
}
