import { Quota } from './quota';
import { formatBytes, Stats } from './stats';

describe('Stats', () => {
  it('counts interviews and candidates and never goes below zero', () => {
    let stats = Stats.empty().interviewCreated().interviewCreated().candidateAdded();
    expect(stats).toMatchObject({ interviewsCreated: 2, interviewsActive: 2, candidatesTotal: 1 });
    stats = stats.interviewClosed().interviewClosed().interviewClosed();
    expect(stats.interviewsActive).toBe(0);
    expect(stats.interviewsCreated).toBe(2);
  });

  it('keeps storage exact beyond 2^53 and clamps removals at zero', () => {
    const big = 2n ** 60n;
    const stats = Stats.empty().storageAdded(big).storageAdded(1n);
    expect(stats.storageUsed).toBe(big + 1n);
    expect(stats.storageRemoved(big + 5n).storageUsed).toBe(0n);
    expect(() => stats.storageAdded(-1n)).toThrow(RangeError);
  });

  it('formats sizes the way the API shows them', () => {
    expect(formatBytes(0n)).toBe('0 B');
    expect(formatBytes(1536n)).toBe('1.5 KB');
    expect(formatBytes(1610612736n)).toBe('1.5 GB');
    expect(formatBytes(5n * 1024n ** 3n)).toBe('5 GB');
  });
});

describe('Quota', () => {
  it('reports used, limit and remaining, and when a limit is reached', () => {
    const quota = Quota.default();
    const stats = Stats.empty().interviewCreated().storageAdded(1024n);
    expect(quota.interviews(stats)).toEqual({ used: 1, limit: 10, reserved: 0, remaining: 9 });
    expect(quota.storage(stats)).toEqual({ used: 1024, limit: 5368709120, reserved: 0, remaining: 5368708096 });
    expect(quota.interviews(stats, 4n)).toEqual({ used: 1, limit: 10, reserved: 4, remaining: 5 });
    expect(quota.interviews(stats, 20n)).toEqual({ used: 1, limit: 10, reserved: 20, remaining: 0 });
    expect(quota.exceeded(stats)).toBe(false);
    expect(Quota.create({ maxInterviews: 1, maxStorage: 10n }).exceeded(stats)).toBe(true);
  });

  it('rejects negative or fractional limits', () => {
    expect(() => Quota.create({ maxInterviews: -1, maxStorage: 0n })).toThrow('Validation failed');
    expect(() => Quota.create({ maxInterviews: 1.5, maxStorage: 0n })).toThrow('Validation failed');
    expect(() => Quota.create({ maxInterviews: 1, maxStorage: -1n })).toThrow('Validation failed');
  });
});
