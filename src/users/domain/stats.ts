export interface StatsFields {
  interviewsCreated: number;
  interviewsActive: number;
  candidatesTotal: number;
  /** Bytes; bigint so no sum of media sizes can lose precision. */
  storageUsed: bigint;
}

/** Usage counters. Counters never go below zero, whatever order events arrive in. */
export class Stats implements StatsFields {
  readonly interviewsCreated: number;
  readonly interviewsActive: number;
  readonly candidatesTotal: number;
  readonly storageUsed: bigint;

  private constructor(fields: StatsFields) {
    Object.assign(this, fields);
    Object.freeze(this);
  }

  static empty(): Stats {
    return new Stats({ interviewsCreated: 0, interviewsActive: 0, candidatesTotal: 0, storageUsed: 0n });
  }

  static restore(fields: StatsFields): Stats {
    return new Stats(fields);
  }

  interviewCreated(): Stats {
    return this.with({ interviewsCreated: this.interviewsCreated + 1, interviewsActive: this.interviewsActive + 1 });
  }

  interviewClosed(): Stats {
    return this.with({ interviewsActive: Math.max(0, this.interviewsActive - 1) });
  }

  candidateAdded(): Stats {
    return this.with({ candidatesTotal: this.candidatesTotal + 1 });
  }

  storageAdded(bytes: bigint): Stats {
    return this.with({ storageUsed: this.storageUsed + nonNegative(bytes) });
  }

  storageRemoved(bytes: bigint): Stats {
    const left = this.storageUsed - nonNegative(bytes);
    return this.with({ storageUsed: left < 0n ? 0n : left });
  }

  private with(change: Partial<StatsFields>): Stats {
    return new Stats({ ...this, ...change });
  }
}

function nonNegative(bytes: bigint): bigint {
  if (bytes < 0n) throw new RangeError('a byte count cannot be negative');
  return bytes;
}

/** "1.5 GB": binary multiples, as storage quotas are (5 GB = 5 × 1024³ bytes). */
export function formatBytes(bytes: bigint): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const rounded = unit === 0 ? value : Math.round(value * 10) / 10;
  return `${rounded} ${units[unit]}`;
}
