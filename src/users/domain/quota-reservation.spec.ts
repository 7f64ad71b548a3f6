import { ValidationFailed } from '../../common/domain-error';
import { Quota } from './quota';
import { assertReservable, NOTHING_RESERVED, QuotaExceeded, remainingOf, reservationRequest } from './quota-reservation';
import { Stats } from './stats';

describe('quota reservations', () => {
  const quota = Quota.create({ maxInterviews: 10, maxStorage: 1000n });
  const stats = Stats.restore({ interviewsCreated: 20, interviewsActive: 7, candidatesTotal: 0, storageUsed: 400n });

  it('checks requests and defaults ttlSeconds to 900', () => {
    expect(reservationRequest({ resource: 'interviews', amount: 1, reference: 'iv' })).toEqual({
      resource: 'interviews',
      amount: 1n,
      reference: 'iv',
      ttlSeconds: 900,
    });
    const fields = (input: Parameters<typeof reservationRequest>[0]) => {
      try {
        reservationRequest(input);
        return [];
      } catch (error) {
        return (error as ValidationFailed).details!.map((d) => d.field);
      }
    };
    expect(fields({ resource: 'interviews', amount: 2 ** 31, reference: '', ttlSeconds: 86_401 })).toEqual([
      'amount',
      'reference',
      'ttlSeconds',
    ]);
    expect(fields({ resource: 'storage', amount: 2 ** 31, reference: 'f', ttlSeconds: 86_400 })).toEqual([]);
    expect(fields({ resource: 'storage', amount: 0, reference: 'f' })).toEqual(['amount']);
  });

  it('lets reservations fill what the limit leaves after use and other reservations, and no more', () => {
    expect(remainingOf('interviews', stats, quota, NOTHING_RESERVED)).toBe(3n);
    expect(remainingOf('storage', stats, quota, { interviews: 0n, storage: 100n })).toBe(500n);
    expect(remainingOf('interviews', stats, quota, { interviews: 5n, storage: 0n })).toBe(0n);
    const request = reservationRequest({ resource: 'interviews', amount: 3, reference: 'iv' });
    expect(() => assertReservable(request, stats, quota, NOTHING_RESERVED)).not.toThrow();
    try {
      assertReservable(request, stats, quota, { interviews: 1n, storage: 0n });
      throw new Error('not refused');
    } catch (error) {
      expect(error).toBeInstanceOf(QuotaExceeded);
      expect((error as QuotaExceeded).extra).toEqual({
        quota: { resource: 'interviews', requested: 3, used: 7, reserved: 1, limit: 10, remaining: 2 },
      });
    }
  });
});
