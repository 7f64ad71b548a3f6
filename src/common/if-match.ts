import { VersionMismatch } from './domain-error';

/** ETag of a versioned resource. */
export const etagOf = (version: number) => `"${version}"`;

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

export function matchesIfNoneMatch(header: string | undefined, version: number): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etagOf(version));
}
