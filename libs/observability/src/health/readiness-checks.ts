import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { type DataSource } from 'typeorm';

/**
 * Runs `work` with tracing suppressed: probes every few seconds would otherwise fill the
 * trace store with root spans nobody asked for (CONTRACT §4: not traced as business spans).
 */
export function untraced<T>(work: () => Promise<T>): Promise<T> {
  return context.with(suppressTracing(context.active()), work);
}

/** Rejects with `Timed out after N ms` unless `work` settles first. */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `SELECT 1` through the app's pool: proves a connection can be had and answers. */
export async function pingDatabase(dataSource: DataSource): Promise<void> {
  if (!dataSource.isInitialized) {
    throw new Error('Not connected');
  }
  await dataSource.query('SELECT 1');
}

/** Resolves when `GET <baseUrl>/health/live` answers 2xx within `timeoutMs`. */
export function probeLive(baseUrl: string, timeoutMs: number): Promise<void> {
  const url = new URL('/health/live', baseUrl);
  const send = url.protocol === 'https:' ? httpsRequest : request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        resolve();
      } else {
        reject(new Error(`Answered ${status}`));
      }
    });
    req.once('timeout', () => req.destroy(new Error(`Timed out after ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}
