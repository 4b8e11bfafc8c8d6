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

  async onApplicationShutdown(): Promise<void> {
    await this.http.close();
  }
}
