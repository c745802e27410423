import {
  canonicalTimestamp,
  compareTimestamps,
  InvalidTimestampError,
  ticksToIso,
  toTicks,
} from '../../src/defender/timestamp';

describe('Defender timestamps', () => {
  test('keep all seven fractional digits that a Date would drop', () => {
    const a = '2020-09-06T14:46:57.0733333Z';
    const b = '2020-09-06T14:46:57.0733334Z';
    expect(new Date(a).getTime()).toBe(new Date(b).getTime());
    expect(compareTimestamps(a, b)).toBe(-1);
    expect(toTicks(b) - toTicks(a)).toBe(1n);
  });

  test('trimmed and padded forms of one instant are equal', () => {
    expect(canonicalTimestamp('2020-09-06T14:46:57.29Z')).toBe('2020-09-06T14:46:57.2900000Z');
    expect(compareTimestamps('2020-09-06T14:46:57.29Z', '2020-09-06T14:46:57.2900000Z')).toBe(0);
    expect(canonicalTimestamp('2020-09-06T14:46:57Z')).toBe('2020-09-06T14:46:57.0000000Z');
    expect(canonicalTimestamp('2020-09-06T16:46:57.5+02:00')).toBe('2020-09-06T14:46:57.5000000Z');
  });

  test('round-trips ticks', () => {
    const t = toTicks('2021-09-30T09:35:45.1133333Z');
    expect(ticksToIso(t)).toBe('2021-09-30T09:35:45.1133333Z');
  });

  test('rejects what is not a timestamp', () => {
    expect(() => toTicks('yesterday')).toThrow(InvalidTimestampError);
    expect(() => toTicks('2021-13-45T99:00:00Z')).toThrow(InvalidTimestampError);
  });
});
