import { Injectable } from '@nestjs/common';
import { type DrainListener } from '@keel/platform';

/**
 * Whether the process still wants traffic. `bootstrap()` flips it on SIGTERM before the
 * server stops accepting, so load balancers and Kubernetes see `/health/ready` turn 503
 * while in-flight requests finish.
 */
@Injectable()
export class ReadinessState implements DrainListener {
  private drainingSince: Date | undefined;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  onDrainStart(): void {
    this.drainingSince ??= new Date();
  }
}
