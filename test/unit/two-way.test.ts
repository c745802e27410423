/** The pure logic of two-way sync (docs/two-way.md): ownership, base versions, conflicts, comment markers. */
import { unownedFields } from '../../src/two-way/ownership';
import { parseBaseVersion } from '../../src/two-way/base-version';
import { findConflicts } from '../../src/two-way/conflicts';
import { commentMarker, hasMarkedComment, withMarker } from '../../src/two-way/comment-marker';
import { touchedFields, type FieldSnapshot } from '../../src/two-way/snapshot';
import { toTicks } from '../../src/defender/timestamp';
import { isDroppedEcho } from '../../src/delivery/echo';
import type { IncidentEvent } from '../../src/delivery/envelope';

const T = '11111111-1111-1111-1111-111111111111';
const snap = (o: Partial<FieldSnapshot> = {}): FieldSnapshot => ({
  status: 'active',
  assignedTo: null,
  classification: 'unknown',
  determination: 'unknown',
  tags: [],
  ...o,
});

test('ownership: every set field the sender is not granted is named; null (unassign) counts as set', () => {
  expect(unownedFields({ status: 'resolved', comment: 'x' }, ['status', 'comment'])).toEqual([]);
  expect(
    unownedFields({ status: 'resolved', assignedTo: null, tags: ['a'] }, ['status']).map((e) => e.field),
  ).toEqual(['assignedTo', 'tags']);
});

test('a base version is a last-update time or the event id of the same incident', () => {
  expect(parseBaseVersion('2026-03-01T10:00:00.1234567Z', T, '42')).toEqual({
    ok: true,
    ticks: toTicks('2026-03-01T10:00:00.1234567Z'),
  });
  expect(parseBaseVersion(`${T.toUpperCase()}/42/2026-03-01T10:00:00.12Z`, T, '42')).toEqual({
    ok: true,
    ticks: toTicks('2026-03-01T10:00:00.12Z'),
  });
  expect(parseBaseVersion(`${T}/43/2026-03-01T10:00:00Z`, T, '42')).toMatchObject({ ok: false });
  expect(parseBaseVersion('yesterday', T, '42')).toMatchObject({ ok: false });
  expect(parseBaseVersion('a/b', T, '42')).toMatchObject({ ok: false });
});

test('a classification touches the determination too (Defender recalculates it)', () => {
  expect(touchedFields({ classification: 'truePositive' })).toEqual(['classification', 'determination']);
  expect(touchedFields({ comment: 'x' })).toEqual([]);
});

describe('conflicts', () => {
  const base = { baseTicks: 10n, currentTicks: 20n };
  test('a field changed in Defender since the base, and touched by the update, conflicts', () => {
    expect(
      findConflicts({
        ...base,
        update: { status: 'active' },
        base: snap(),
        current: snap({ status: 'resolved' }),
      }),
    ).toEqual([{ field: 'status', base: 'active', current: 'resolved' }]);
  });
  test('an untouched field, a base as new as the current version, or the value already asked for: none', () => {
    const current = snap({ status: 'resolved', tags: ['b', 'a'] });
    expect(findConflicts({ ...base, update: { assignedTo: 'x' }, base: snap(), current })).toEqual([]);
    expect(
      findConflicts({
        baseTicks: 20n,
        currentTicks: 20n,
        update: { status: 'active' },
        base: snap(),
        current,
      }),
    ).toEqual([]);
    expect(findConflicts({ ...base, update: { status: 'resolved' }, base: snap(), current })).toEqual([]);
    expect(
      findConflicts({
        ...base,
        update: { tags: ['a', 'b'] },
        base: snap(),
        current: snap({ tags: ['a', 'b'] }),
      }),
    ).toEqual([]);
  });
  test('a base the relay holds no snapshot of conflicts on every touched field that differs from the ask', () => {
    expect(
      findConflicts({
        ...base,
        update: { status: 'resolved', assignedTo: 'x' },
        base: undefined,
        current: snap(),
      }),
    ).toEqual([
      { field: 'status', current: 'active' },
      { field: 'assignedTo', current: null },
    ]);
  });
});

test('comment marker: the same for every attempt of one message, different per sender and message', () => {
  const m = commentMarker('ticketing', 'msg_1');
  expect(m).toBe(commentMarker('ticketing', 'msg_1'));
  expect(m).not.toBe(commentMarker('ticketing', 'msg_2'));
  expect(m).not.toBe(commentMarker('soar', 'msg_1'));
  expect(hasMarkedComment({ comments: [{ comment: withMarker('hello', m) }] }, m)).toBe(true);
  expect(hasMarkedComment({ comments: [{ comment: 'hello' }] }, m)).toBe(false);
  expect(hasMarkedComment({}, m)).toBe(false);
});

test('a destination drops only the echoes of the senders it names (case-insensitive)', () => {
  const echo = { relayechosender: 'Ticketing' } as IncidentEvent;
  expect(isDroppedEcho(['ticketing'], echo)).toBe(true);
  expect(isDroppedEcho(['soar'], echo)).toBe(false);
  expect(isDroppedEcho(undefined, echo)).toBe(false);
  expect(isDroppedEcho(['ticketing'], {} as IncidentEvent)).toBe(false);
});
