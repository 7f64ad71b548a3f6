import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Metrics } from '../observability/metrics';

/**
 * What the command handlers report once a change is committed: one log line (with the request's
 * traceId) and the matching counter. Only ids and field names, never the values people typed.
 */
@Injectable()
export class UserActivity {
  constructor(
    @InjectPinoLogger('UserActivity') private readonly logger: PinoLogger,
    private readonly metrics: Metrics,
  ) {}

  created(userId: string): void {
    this.metrics.userCreated();
    this.logger.info({ userId, action: 'user_create' }, 'User created');
  }

  profileUpdated(userId: string, version: number): void {
    this.metrics.profileUpdated();
    this.logger.info({ userId, action: 'user_update', version }, 'User profile updated');
  }

  preferencesUpdated(userId: string, version: number): void {
    this.logger.info({ userId, action: 'preferences_update', version }, 'User preferences updated');
  }

  deleted(userId: string): void {
    this.logger.info({ userId, action: 'user_delete' }, 'User deleted');
  }
}
