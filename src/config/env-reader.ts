import { isIP } from 'node:net';

export type Env = Record<string, string | undefined>;

/** Typed values from the environment; each bad one adds a message naming it to `problems` (its default is used meanwhile). */
export class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  string(name: string): string | null {
    const value = this.env[name]?.trim();
    return value ? value : null;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === null) return fallback;
    if (allowed.includes(raw as T)) return raw as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    return fallback;
  }

  /** A comma list of origins (`https://app.example.com`), or `*` for any. */
  origins(name: string): string[] {
    const list = (this.string(name) ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    const bad = list.filter((origin) => origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin));
    if (bad.length > 0) {
      this.problems.push(`${name} must be a comma-separated list of origins like https://app.example.com, or * (got "${bad.join(', ')}")`);
    }
    return list.filter((origin) => !bad.includes(origin));
  }

  /** `false` (or unset), a hop count, or a comma list of addresses and CIDR ranges. */
  proxies(name: string): false | number | string[] {
    const raw = this.string(name);
    if (raw === null || raw.toLowerCase() === 'false') return false;
    if (/^\d+$/.test(raw) && Number(raw) <= 100) return Number(raw) === 0 ? false : Number(raw);
    const list = raw.split(',').map((entry) => entry.trim());
    if (!/^\d+$/.test(raw) && list.every(isAddressOrRange)) return list;
    this.problems.push(
      `${name} must be false, a number of proxy hops (at most 100), or a comma-separated list of proxy addresses and ` +
        `CIDR ranges like 10.0.0.0/8,192.168.1.10 (got "${raw}")`,
    );
    return false;
  }

  url(name: string): string | null {
    const raw = this.string(name);
    if (raw === null) return null;
    try {
      const url = new URL(raw);
      if (url.protocol === 'http:' || url.protocol === 'https:') return raw;
    } catch {
      // reported below
    }
    this.problems.push(`${name} must be an http(s) URL (got "${raw}")`);
    return null;
  }
}

/** `192.168.1.10`, `10.0.0.0/8`, `fd00::/8`, or one of proxy-addr's names for the usual ranges. */
function isAddressOrRange(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}
