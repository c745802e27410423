import { formatTicks, parseTicks } from '../../tools/simulator/util';
import { matches, parseFilter, ODataError } from '../../tools/simulator/incidents';

describe('simulator timestamps', () => {
  it.each([
    '2020-09-06T14:46:57.0733333Z',
    '2020-09-06T14:46:57.29Z',
    '2020-09-06T14:46:57Z',
    '2021-09-30T12:07:37.2756993Z',
  ])('round-trips %s exactly', (text) => {
    expect(formatTicks(parseTicks(text)!)).toBe(text);
  });

  it('trims trailing zeros and keeps 100-ns order', () => {
    expect(formatTicks(parseTicks('2020-09-06T14:46:57.2900000Z')!)).toBe('2020-09-06T14:46:57.29Z');
    expect(parseTicks('2020-09-06T14:46:57.0733334Z')! > parseTicks('2020-09-06T14:46:57.0733333Z')!).toBe(
      true,
    );
    expect(parseTicks('2020-09-06T16:46:57+02:00')).toBe(parseTicks('2020-09-06T14:46:57Z'));
    expect(parseTicks('not a date')).toBeUndefined();
  });

  it('parses OData filters joined by and', () => {
    const clauses = parseFilter(
      "lastUpdateDateTime ge 2020-09-06T14:46:57.0733333Z and status eq 'active'",
      ['lastUpdateDateTime'],
      ['status'],
    );
    const get = (ticks: string, status: string) => (f: string) =>
      f === 'status' ? status : parseTicks(ticks)!;
    expect(matches(clauses, get('2020-09-06T14:46:57.0733333Z', 'Active'))).toBe(true);
    expect(matches(clauses, get('2020-09-06T14:46:57.0733332Z', 'active'))).toBe(false);
    expect(matches(clauses, get('2020-09-06T14:46:58Z', 'resolved'))).toBe(false);
    expect(() => parseFilter('severity eq 1', ['lastUpdateDateTime'], ['status'])).toThrow(ODataError);
    expect(() => parseFilter('lastUpdateDateTime ge yesterday', ['lastUpdateDateTime'], [])).toThrow(
      ODataError,
    );
  });
});
