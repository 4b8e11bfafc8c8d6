import { ConfigValidationError } from './config-validation.error';
import { parseBytes, parseDuration, parseRate, type Rate } from './duration';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads typed values out of an environment and collects every problem, so that one
 * start-up reports all bad variables at once. Call {@link EnvReader.done} last.
 */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** The raw value, or `undefined` when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) {
      return fallback;
    }
    if (!(allowed as readonly string[]).includes(value)) {
      return this.fail(name, `must be one of ${allowed.join(', ')} (got "${value}")`, fallback);
    }
    return value as T;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) {
      return fallback;
    }
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
      return this.fail(
        name,
        `must be a whole number from ${min} to ${max} (got "${value}")`,
        fallback,
      );
    }
    return parsed;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) {
      return fallback;
    }
    if (['true', '1', 'yes'].includes(value)) {
      return true;
    }
    if (['false', '0', 'no'].includes(value)) {
      return false;
    }
    return this.fail(name, `must be true or false (got "${value}")`, fallback);
  }

  /** A duration in milliseconds (`900s`, `30d`). */
  duration(name: string, fallback: string): number {
    const value = this.raw(name) ?? fallback;
    return (
      parseDuration(value) ??
      this.fail(name, `must be a duration like 900s or 30d (got "${value}")`, 0)
    );
  }

  rate(name: string, fallback: string): Rate {
    const value = this.raw(name) ?? fallback;
    return (
      parseRate(value) ??
      this.fail(name, `must be a rate <count>/<window> like 5/300s (got "${value}")`, {
        limit: 1,
        windowMs: 1000,
      })
    );
  }

  bytes(name: string, fallback: string): number {
    const value = this.raw(name) ?? fallback;
    return parseBytes(value) ?? this.fail(name, `must be a size like 100kb (got "${value}")`, 0);
  }

  url(
    name: string,
    fallback: string | undefined,
    protocols: readonly string[],
  ): string | undefined {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      return undefined;
    }
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
        return this.fail(
          name,
          `must use ${protocols.join(' or ')} (got "${parsed.protocol}")`,
          undefined,
        );
      }
      return value;
    } catch {
      return this.fail(name, `must be a URL (got "${value}")`, undefined);
    }
  }

  list(name: string): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  /** Records a problem that the caller found itself. */
  fail<T>(name: string, message: string, placeholder: T): T {
    this.problems.push(`${name} ${message}`);
    return placeholder;
  }

  /** Throws {@link ConfigValidationError} when any read failed. */
  done(): void {
    if (this.problems.length > 0) {
      throw new ConfigValidationError(this.problems);
    }
  }
}
