import { randomUUID } from 'node:crypto';
import type { PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { QuotaResource, Reserved, ReservationRequest } from '../domain/quota-reservation';

/**
 * SQL on quota_reservations, for PgUserRepository (which holds the user's row lock around the writes) and
 * PgUserReader. Expiry: a reservation past `expires_at` counts for nothing (every sum leaves it out) and is deleted
 * lazily, under the user's lock before the next reservation, and by QuotaReservationExpiry's sweep. Times are the
 * database's clock (`now()`), the same for every instance.
 */

/** A pool, a transaction's client, or the ReadPool. */
interface Queryable {
  query<R extends QueryResultRow>(query: QueryConfig): Promise<QueryResult<R>>;
}

/** Sums of the user's live reservations. */
export async function reservedBy(db: Queryable, userId: string): Promise<Reserved> {
  const { rows } = await db.query<{ resource: QuotaResource; amount: string }>({
    name: 'reserved_by',
    text: `SELECT resource, sum(amount)::text AS amount FROM quota_reservations
            WHERE user_id = $1 AND expires_at > now() GROUP BY resource`,
    values: [userId],
  });
  const reserved = { interviews: 0n, storage: 0n };
  for (const row of rows) reserved[row.resource] = BigInt(row.amount);
  return reserved;
}

/** Deletes the user's expired reservations (under the user's lock, so that their references may be used again). */
export async function purgeExpired(tx: PoolClient, userId: string): Promise<void> {
  await tx.query({
    name: 'purge_expired_reservations',
    text: `DELETE FROM quota_reservations WHERE user_id = $1 AND expires_at <= now()`,
    values: [userId],
  });
}

/** The live reservation of the user holding this resource and reference, if any. */
export async function reservationWithReference(tx: PoolClient, userId: string, request: ReservationRequest): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM quota_reservations WHERE user_id = $1 AND resource = $2 AND reference = $3',
    [userId, request.resource, request.reference],
  );
  return rows[0]?.id ?? null;
}

export async function insertReservation(
  tx: PoolClient,
  userId: string,
  request: ReservationRequest,
): Promise<{ id: string; expiresAt: Date }> {
  const id = randomUUID();
  const { rows } = await tx.query<{ expires_at: Date }>(
    `INSERT INTO quota_reservations (id, user_id, resource, amount, reference, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING expires_at`,
    [id, userId, request.resource, request.amount.toString(), request.reference, request.ttlSeconds],
  );
  return { id, expiresAt: rows[0].expires_at };
}

/** Deletes a reservation; true when it was live (an expired one goes too, but counts as gone already). */
export async function deleteReservation(tx: PoolClient, userId: string, reservationId: string): Promise<boolean> {
  const { rows } = await tx.query<{ live: boolean }>(
    'DELETE FROM quota_reservations WHERE id = $1 AND user_id = $2 RETURNING expires_at > now() AS live',
    [reservationId, userId],
  );
  return rows[0]?.live ?? false;
}

/** Settles the reservations that consumed events name: their amounts are now counted as used instead. */
export async function settleReservations(
  tx: PoolClient,
  settled: Array<{ userId: string; resource: QuotaResource; reference: string }>,
): Promise<void> {
  if (settled.length === 0) return;
  await tx.query({
    name: 'settle_reservations',
    text: `DELETE FROM quota_reservations AS r USING unnest($1::uuid[], $2::text[], $3::text[]) AS s(user_id, resource, reference)
            WHERE r.user_id = s.user_id AND r.resource = s.resource AND r.reference = s.reference`,
    values: [settled.map((s) => s.userId), settled.map((s) => s.resource), settled.map((s) => s.reference)],
  });
}
