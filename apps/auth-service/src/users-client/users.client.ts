import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, InternalHttpClient } from '@keel/platform';
import { type AuthConfig } from '../config/auth-config';

export interface NewProfile {
  id: string;
  email: string;
  displayName: string;
}

/** users-service's internal API, as auth-service uses it. */
@Injectable()
export class UsersClient implements OnApplicationShutdown {
  private readonly http: InternalHttpClient;

  constructor(@Inject(APP_CONFIG) config: AuthConfig) {
    this.http = new InternalHttpClient({
      baseUrl: config.usersServiceUrl,
      internalToken: config.internalToken,
      connectTimeoutMs: 1000,
      responseTimeoutMs: 3000,
    });
  }

  /** Creates the profile; true when users-service confirmed it (idempotent on `id`). */
  async createProfile(profile: NewProfile): Promise<boolean> {
    const response = await this.http.post('/internal/users', profile);
    return response.status === 200 || response.status === 201;
  }

  /**
   * Best-effort removal of a profile that a failed registration may have left (for instance
   * when users-service created it but answered after our timeout). Never throws.
   */
  async removeProfile(id: string): Promise<boolean> {
    try {
      const response = await this.http.delete(`/internal/users/${encodeURIComponent(id)}`);
      return response.status === 204 || response.status === 404;
    } catch {
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.http.close();
  }
}
