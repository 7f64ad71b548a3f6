import { types } from 'pg';

const TIMESTAMPTZ_OID = 1184;
const parseTimestamptz = types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date;

/** PostgreSQL's text for a timestamptz in a UTC session: `2026-11-26 11:33:11.655395+00`. */
const UTC = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?\+00$/;

/**
 * A timestamptz's text (PostgreSQL's output, read as text with `::text`), written as toISOString() of pg's Date
 * for it would be: for reads that only write their timestamps out (the user view), without building a Date to
 * format it again (postgres-date and toISOString were ~1.5 % of a GET in the profile, issue 13). Milliseconds are cut, not rounded, as pg's parser
 * does (it gives Date.UTC 1000 × the fraction, which drops what is below a millisecond). Anything else (another
 * session time zone, years past 9999, BC, infinity) goes through pg's own parser.
 */
export function isoTimestamp(text: string): string {
  const utc = UTC.exec(text);
  if (!utc) return parseTimestamptz(text).toISOString();
  const ms = utc[3] ? Math.trunc(1000 * parseFloat(utc[3])) : 0;
  return `${utc[1]}T${utc[2]}.${String(ms).padStart(3, '0')}Z`;
}
