import type { FastifyReply } from 'fastify';
import { VersionMismatch } from './domain-error';

/** What every command and query on a user answers: the view, and the user's version, which its ETag carries. */
export interface Versioned<T> {
  view: T;
  version: number;
}

/** ETag of a versioned resource. */
export const etagOf = (version: number) => `"${version}"`;

/**
 * Sets the ETag of `result` and returns its view, or, when `ifNoneMatch` names that version (or is `*`),
 * answers 304 Not Modified without a body.
 */
export function withEtag<T>(reply: FastifyReply, { view, version }: Versioned<T>, ifNoneMatch?: string): T | undefined {
  void reply.header('etag', etagOf(version));
  if (!matchesIfNoneMatch(ifNoneMatch, version)) return view;
  void reply.status(304);
  return undefined;
}

/**
 * The versions an If-Match header accepts: null when there is no precondition (absent or `*`).
 * Weak tags are accepted too, since proxies that compress weaken ETags on the way out.
 * A header naming no version of ours accepts none, so the request fails with 412.
 */
export function parseIfMatch(header: string | undefined): number[] | null {
  if (header === undefined || header.trim() === '*') return null;
  const versions: number[] = [];
  for (const tag of header.split(',')) {
    const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(tag);
    if (match) versions.push(Number(match[1]));
  }
  return versions;
}

export function assertVersion(accepted: number[] | null, current: number): void {
  if (accepted !== null && !accepted.includes(current)) throw new VersionMismatch(current);
}

/** Weak tags match too (weak comparison, as RFC 9110 asks for If-None-Match). */
export function matchesIfNoneMatch(header: string | undefined, version: number): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etagOf(version));
}
