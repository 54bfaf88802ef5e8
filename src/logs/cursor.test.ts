// The position in a stream: a millisecond and how many of its lines were read, so reading again
// from that millisecond gives no line twice and loses none.
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../ports/log-store.js';
import { cursorAfter, cursorAt, fresh } from './cursor.js';

const ev = (timestamp: number, message: string): StoredEvent => ({ stream: 's', timestamp, message });

describe('a log cursor', () => {
  it('counts the lines of the newest millisecond read, across reads', () => {
    const c1 = cursorAfter(cursorAt(undefined), [ev(1, 'a'), ev(2, 'b'), ev(2, 'c')]);
    expect(c1).toEqual({ ts: 2, seen: 2 });
    expect(cursorAfter(c1, [ev(2, 'd')])).toEqual({ ts: 2, seen: 3 });
    expect(cursorAfter(c1, [])).toBe(c1);
  });

  it('gives only the lines not read yet when the same millisecond is read again', () => {
    const c = { ts: 2, seen: 2 };
    const got = fresh(c, [ev(1, 'a'), ev(2, 'b'), ev(2, 'c'), ev(2, 'd'), ev(3, 'e')]);
    expect(got.events.map((e) => e.message)).toEqual(['d', 'e']);
    expect(got.cursor).toEqual({ ts: 3, seen: 1 });
    expect(fresh(got.cursor, [ev(3, 'e')]).events).toEqual([]);
  });

  it('starts at `since`: lines of that very millisecond count', () => {
    expect(fresh(cursorAt(5), [ev(4, 'old'), ev(5, 'at'), ev(6, 'new')]).events.map((e) => e.message)).toEqual(['at', 'new']);
    expect(fresh(cursorAt(undefined), [ev(0, 'first')]).events).toHaveLength(1);
  });

  it('takes a tail cut inside one millisecond as having read all of it, so nothing comes twice', () => {
    const c = cursorAfter(cursorAt(undefined), [ev(7, 'y'), ev(7, 'z')], false);
    expect(fresh(c, [ev(7, 'x'), ev(7, 'y'), ev(7, 'z'), ev(8, 'next')]).events.map((e) => e.message)).toEqual(['next']);
    // A cut elsewhere still counts exactly.
    expect(cursorAfter(cursorAt(undefined), [ev(6, 'w'), ev(7, 'z')], false)).toEqual({ ts: 7, seen: 1 });
  });
});
