import { describe, expect, it } from 'vitest';
import { HwError } from '../../core/src/errors.ts';
import { parseRecordsUrl } from '../src/records-url.ts';

describe('records url', () => {
  it('reads sqlite: paths and postgres:// URLs', () => {
    expect(parseRecordsUrl('sqlite:data/records.db')).toEqual({ engine: 'sqlite', path: 'data/records.db' });
    expect(parseRecordsUrl('sqlite:///var/lib/hw/records.db')).toEqual({ engine: 'sqlite', path: '/var/lib/hw/records.db' });
    expect(parseRecordsUrl('sqlite::memory:')).toEqual({ engine: 'sqlite', path: ':memory:' });
    expect(parseRecordsUrl('postgres://hw@db:5432/hw')).toEqual({ engine: 'postgres', connectionString: 'postgres://hw@db:5432/hw' });
    expect(parseRecordsUrl('postgresql://hw@db/hw').engine).toBe('postgres');
  });

  it('refuses anything else with HW_ERR_CONFIG, without echoing a password', () => {
    for (const url of ['sqlite:', 'mysql://root:s3cret@db/hw', 'records.db']) {
      let err: unknown;
      try {
        parseRecordsUrl(url);
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(HwError);
      expect((err as HwError).code).toBe('HW_ERR_CONFIG');
      expect((err as HwError).message).not.toContain('s3cret');
    }
  });
});
