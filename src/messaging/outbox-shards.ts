/** The outbox's hash buckets (migration ShardOutbox: bucket = hashtext(aggregate_id) & 63): all of a user's events share one. */
export const OUTBOX_BUCKETS = 64;

/** Shard `shard` of `shards` is the buckets whose number leaves that remainder. */
export function bucketsOf(shard: number, shards: number): number[] {
  return Array.from({ length: OUTBOX_BUCKETS }, (_, bucket) => bucket).filter((bucket) => bucket % shards === shard);
}

/** The single lock of the relay before it was sharded: taken shared, so that an old instance and a new one never publish at once. */
const UNSHARDED_RELAY_LOCK = 7_406_211_001;

/**
 * One statement, for the transaction that publishes a batch of a shard: true when it holds the shard
 * ($1 = shard, $2 = OUTBOX_SHARDS) and every one of its buckets ($3), until it ends. Keys are per schema.
 *
 * The shard lock decides between instances (they skip a shard another one holds). The bucket locks are
 * what keeps a user's events in order, and they make a mismatch harmless: an instance that counts 16
 * shards while the others count 8 drains half a shard of theirs, and takes the same bucket locks.
 */
export const LOCK_SHARD = `
  SELECT CASE WHEN pg_try_advisory_xact_lock_shared(${UNSHARDED_RELAY_LOCK})
               AND pg_try_advisory_xact_lock(hashtext('user-service:outbox-shard:' || current_schema()), $2 * ${OUTBOX_BUCKETS} + $1)
    THEN (SELECT bool_and(pg_try_advisory_xact_lock(hashtext('user-service:outbox-bucket:' || current_schema()), b)) FROM unnest($3::int[]) b)
    ELSE false END AS locked`;

/**
 * The next batch ($2 rows) of the buckets $1, in id order. Read bucket by bucket from the partial index on
 * (bucket, id), at most $2 ids from each: the cost stays bounded even when the other shards' backlog sits
 * in front of this one's in id order. No FOR UPDATE: the bucket locks keep every other relay away.
 */
export const SELECT_BATCH = `
  SELECT id, payload FROM outbox WHERE id = ANY (ARRAY(
    SELECT next.id FROM unnest($1::smallint[]) b,
      LATERAL (SELECT id FROM outbox WHERE published_at IS NULL AND bucket = b ORDER BY id LIMIT $2) next
    ORDER BY next.id LIMIT $2))
  ORDER BY id`;

/** The shards with unpublished rows: one probe of the partial index per bucket. */
export const PENDING_BUCKETS = `
  SELECT b AS bucket FROM generate_series(0, ${OUTBOX_BUCKETS - 1}) b
   WHERE EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL AND bucket = b)`;

export function pendingShards(buckets: number[], shards: number): number[] {
  return [...new Set(buckets.map((bucket) => bucket % shards))];
}
