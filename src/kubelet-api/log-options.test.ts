import { describe, expect, it } from 'vitest';
import { kubeletTimestamp, parseLogOptions } from './log-options.js';

const now = new Date('2026-11-23T12:00:00Z');

describe('parseLogOptions', () => {
  it('reads every flag kubectl sends', () => {
    expect(parseLogOptions({ follow: 'true', previous: '1', timestamps: 'True', tailLines: '100', limitBytes: '1048576', sinceSeconds: '300' }, now)).toEqual({
      ok: true, value: { follow: true, previous: true, timestamps: true, tailLines: 100, limitBytes: 1_048_576, since: new Date('2026-11-23T11:55:00Z') },
    });
  });

  it('has nothing set for an empty query', () => {
    expect(parseLogOptions({}, now)).toEqual({ ok: true, value: { follow: false, previous: false, timestamps: false } });
  });

  it('reads sinceTime, with an offset, and the legacy tail', () => {
    expect(parseLogOptions({ sinceTime: '2026-11-23T13:00:00+02:00', tail: '5' }, now)).toEqual({ ok: true, value: { follow: false, previous: false, timestamps: false, tailLines: 5, since: new Date('2026-11-23T11:00:00Z') } });
    expect(parseLogOptions({ tail: 'all' }, now)).toMatchObject({ ok: true, value: { follow: false } });
    expect(parseLogOptions({ tail: 'all' }, now)).not.toMatchObject({ value: { tailLines: expect.anything() as unknown } });
  });

  it.each([
    [{ tailLines: '-3' }, 'tailLines: must be greater than or equal to 0'],
    [{ limitBytes: '0' }, 'limitBytes: must be greater than or equal to 1'],
    [{ sinceSeconds: '0' }, 'sinceSeconds: must be greater than or equal to 1'],
    [{ tailLines: 'ten' }, 'tailLines: "ten" is not an integer'],
    [{ follow: 'yes' }, 'follow: "yes" is not a boolean'],
    [{ sinceTime: 'yesterday' }, 'sinceTime: "yesterday" is not an RFC 3339 time'],
    [{ sinceSeconds: '60', sinceTime: '2026-11-23T11:00:00Z' }, 'at most one of sinceTime or sinceSeconds may be specified'],
    [{ follow: 'yes', limitBytes: '-1' }, 'follow: "yes" is not a boolean; limitBytes: must be greater than or equal to 1'],
  ])('refuses %j: %s', (q, problem) => {
    expect(parseLogOptions(q, now)).toEqual({ ok: false, error: problem });
  });
});

describe('kubeletTimestamp', () => {
  it('always has nine fractional digits in UTC', () => {
    expect(kubeletTimestamp(Date.parse('2026-11-23T12:00:01Z'))).toBe('2026-11-23T12:00:01.000000000Z');
    expect(kubeletTimestamp(Date.parse('2026-11-23T12:00:02.5Z'))).toBe('2026-11-23T12:00:02.500000000Z');
    expect(kubeletTimestamp(Date.parse('2026-11-23T12:00:02.005Z'))).toBe('2026-11-23T12:00:02.005000000Z');
  });
});
