import { types } from 'pg';
import { isoTimestamp } from './iso-timestamp';

const byDate = (text: string) => (types.getTypeParser(1184, 'text') as (text: string) => Date)(text).toISOString();

describe('isoTimestamp: what toISOString() of pg Date gives, without the Date', () => {
  it('matches it for UTC timestamps with any fraction of a second', () => {
    const texts = [
      '2026-11-26 11:33:11.655395+00',
      '2026-11-26 11:33:11+00',
      '2026-11-26 11:33:11.5+00',
      '2026-11-26 11:33:11.05+00',
      '2026-11-26 11:33:11.000999+00',
      '2026-11-26 11:33:11.999999+00',
      '2026-02-28 23:59:59.9995+00',
      '0050-01-01 00:00:00.001+00',
    ];
    // Every millisecond with sub-millisecond digits around it (floating point: 1000 × 0.xyz is not always xyz).
    for (let ms = 0; ms < 1000; ms++) {
      const fraction = String(ms).padStart(3, '0');
      texts.push(`2026-01-02 03:04:05.${fraction}+00`, `2026-01-02 03:04:05.${fraction}001+00`, `2026-01-02 03:04:05.${fraction}999+00`);
    }
    for (const text of texts) expect({ text, iso: isoTimestamp(text) }).toEqual({ text, iso: byDate(text) });
  });

  it('leaves other session time zones and BC years to pg', () => {
    for (const text of ['2026-11-26 12:33:11.655395+01', '2026-11-26 06:03:11.655395-05:30', '0044-03-15 12:00:00+00 BC']) {
      expect({ text, iso: isoTimestamp(text) }).toEqual({ text, iso: byDate(text) });
    }
  });
});
