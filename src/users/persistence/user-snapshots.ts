import type { UserSnapshotRecord } from '@user-service/contracts';
import type { EntityManager } from 'typeorm';
import { OutgoingMessage } from '../../messaging/event-publisher';

/** The compacted topic of users' current public records (asyncapi.yaml's user.snapshot). */
export const USER_SNAPSHOT_TOPIC = 'user.snapshot';
export const USER_SNAPSHOT_SCHEMA_VERSION = 1 as const;

interface SnapshotRow {
  id: string;
  status: UserSnapshotRecord['status'] | 'erased';
  keycloak_id: string | null;
  email: string | null;
  full_name: string | null;
  avatar_url: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/**
 * The outbox relay's batch with, right after each user's last event in it, a user.snapshot message of that user as
 * the users table holds it now: read in one query on the relay's own transaction (the primary), sent in the same
 * producer send, so snapshots are as at-least-once and as ordered per user as the events. A snapshot may be newer
 * than the events before it (a later change already committed): its own events follow in a later batch, with a
 * snapshot again, so the topic's last value for a user is always their current record.
 */
export async function withUserSnapshots(db: Pick<EntityManager, 'query'>, messages: OutgoingMessage[]): Promise<OutgoingMessage[]> {
  const lastOf = new Map<string, number>();
  messages.forEach((message, i) => lastOf.set(String(message.key), i));
  if (lastOf.size === 0) return messages;
  const rows: SnapshotRow[] = await db.query(
    `SELECT id, status, keycloak_id, email, full_name, avatar_url, version, created_at, updated_at
       FROM users WHERE id = ANY($1::uuid[])`,
    [[...lastOf.keys()]],
  );
  const snapshots = new Map(rows.map((row) => [row.id, snapshotMessage(row)]));
  return messages.flatMap((message, i) => {
    const key = String(message.key);
    const snapshot = lastOf.get(key) === i ? snapshots.get(key) : undefined;
    return snapshot ? [message, snapshot] : [message];
  });
}

/**
 * What other services get of a user on user.snapshot (asyncapi.yaml's UserSnapshotRecord, typed by the contracts
 * package): enough to show and address them, no more (no phone, bio, company, preferences, usage or suspension
 * reason). A soft-deleted user keeps its id, status and times only; an erased one is a tombstone (null).
 */
function snapshotMessage(row: SnapshotRow): OutgoingMessage {
  const headers = { 'content-type': 'application/json', schema_version: String(USER_SNAPSHOT_SCHEMA_VERSION) };
  if (row.status === 'erased') return { topic: USER_SNAPSHOT_TOPIC, key: row.id, value: null, headers };
  const live = row.status !== 'deleted';
  const record: UserSnapshotRecord = {
    schemaVersion: USER_SNAPSHOT_SCHEMA_VERSION,
    id: row.id,
    status: row.status,
    keycloakId: live ? row.keycloak_id : null,
    email: live ? row.email : null,
    fullName: live ? row.full_name : null,
    avatarUrl: live ? row.avatar_url : null,
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  return { topic: USER_SNAPSHOT_TOPIC, key: row.id, value: JSON.stringify(record), headers };
}
