import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/config';
import { AuditTrail } from '../persistence/audit-trail';

/** Deletes audit entries older than AUDIT_RETENTION_DAYS, a batch per statement so that none holds many locks. */
@Injectable()
export class AuditRetention {
  constructor(
    private readonly trail: AuditTrail,
    private readonly config: AppConfig,
  ) {}

  run(): Promise<number> {
    const { auditRetentionDays, jobBatchSize } = this.config.lifecycle;
    return this.trail.deleteOlderThan(auditRetentionDays, jobBatchSize);
  }
}
