import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import Redis from 'ioredis';
import { OBSERVABILITY_OPTIONS } from '../observability.module-definition';
import { type ObservabilityModuleOptions } from '../observability-options.interface';

/**
 * A connection of its own for readiness pings, so a probe never waits behind (or breaks)
 * the app's own Redis traffic. It reconnects in the background; while it is not connected
 * the check is down without waiting.
 */
@Injectable()
export class RedisHealthClient implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Health');
  private client: Redis | undefined;

  constructor(
    @Inject(OBSERVABILITY_OPTIONS) private readonly options: ObservabilityModuleOptions,
  ) {}

  /** Whether a Redis URL is configured at all. */
  get configured(): boolean {
    return this.options.health?.redisUrl !== undefined;
  }

  async ping(): Promise<void> {
    const client = this.connection();
    if (client.status !== 'ready') {
      throw new Error(`Not connected (${client.status})`);
    }
    const answer = await client.ping();
    if (answer !== 'PONG') {
      throw new Error(`Unexpected answer ${String(answer)}`);
    }
  }

  /** Connects at start, so the first readiness probe does not find it still connecting. */
  onModuleInit(): void {
    if (this.configured) {
      this.connection();
    }
  }

  onModuleDestroy(): void {
    this.client?.disconnect();
  }

  private connection(): Redis {
    if (!this.client) {
      const url = this.options.health?.redisUrl;
      if (!url) {
        throw new Error('REDIS_URL is not configured');
      }
      this.client = new Redis(url, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: 1000,
        retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
        connectionName: 'keel-health',
      });
      let lastError = '';
      this.client.on('error', (error: Error) => {
        // Reconnection repeats the same error; log each new one once.
        if (error.message !== lastError) {
          lastError = error.message;
          this.logger.warn({ err: error }, 'redis health connection failed');
        }
      });
      this.client.on('ready', () => {
        lastError = '';
      });
      this.client.connect().catch(() => undefined);
    }
    return this.client;
  }
}
