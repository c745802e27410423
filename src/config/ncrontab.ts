/**
 * SYNC_SCHEDULE: the timer trigger's schedule, checked the way the Functions host reads it, so a schedule
 * the host would refuse (or read differently from what it says) stops the relay at start with the reason.
 *
 * NCRONTAB, as the host's NCrontab library parses it (github.com/atifaziz/NCrontab,
 * NCrontab/CrontabFieldImpl.cs), with the six fields Azure Functions uses ("{second} {minute} {hour}
 * {day} {month} {day-of-week}", learn.microsoft.com/azure/azure-functions/functions-bindings-timer):
 * each field is `*`, a value, a range `a-b`, a list `a,b,…`, each optionally with a step `/n`; months
 * and days of the week also by name (any prefix of the English name, case-insensitive: `Jan`, `mon`).
 * Ranges: second and minute 0-59, hour 0-23, day 1-31, month 1-12, day of week 0-6 (0 = Sunday).
 * Stricter than the library in one way: a step larger than its field's range (`*\/75` in minutes) is
 * refused, since it fires only once per hour or day rather than every 75 minutes as it reads. The
 * reasons name the field and never repeat its text (a value pasted into the wrong setting stays out of
 * the log); numbers out of range are named.
 *
 * A TimeSpan (`hh:mm:ss`) is accepted by the host only on an App Service (dedicated) plan, so it is
 * refused on Flex Consumption and Consumption: the host sets WEBSITE_SKU to `FlexConsumption` or
 * `Dynamic` there (azure-functions-host, ScriptConstants.FlexConsumptionSku / DynamicSku).
 */

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: 'January February March April May June July August September October November December'.split(' '),
  },
  {
    name: 'day of week',
    min: 0,
    max: 6,
    names: 'Sunday Monday Tuesday Wednesday Thursday Friday Saturday'.split(' '),
  },
];

const TIMESPAN = /^(\d{1,2}):(\d{2}):(\d{2})$/;

/** The plans (WEBSITE_SKU) on which the host does not run a TimeSpan schedule. */
const NO_TIMESPAN_SKUS: Record<string, string> = {
  flexconsumption: 'Flex Consumption',
  dynamic: 'Consumption',
};

/** Why `value` is not a schedule the host runs, or undefined when it is. */
export function scheduleProblem(value: string, websiteSku?: string): string | undefined {
  const text = value.trim();
  const span = TIMESPAN.exec(text);
  if (span) {
    const plan = NO_TIMESPAN_SKUS[(websiteSku ?? '').trim().toLowerCase()];
    if (plan)
      return `is a TimeSpan (hh:mm:ss), which the Functions host runs only on an App Service plan, not on ${plan} (WEBSITE_SKU): use NCRONTAB, e.g. "0 */5 * * * *"`;
    const [h, m, s] = span.slice(1).map(Number) as [number, number, number];
    if (h > 23 || m > 59 || s > 59) return 'is not a valid TimeSpan (hh:mm:ss with hh 0-23, mm and ss 0-59)';
    if (h + m + s === 0) return 'is a TimeSpan of zero: the timer would never wait';
    return undefined;
  }
  return ncrontabProblem(text);
}

/** Why `text` is not a six-field NCRONTAB expression, or undefined when it is. */
export function ncrontabProblem(text: string): string | undefined {
  const parts = text.split(/\s+/).filter(Boolean);
  if (parts.length !== 6)
    return `has ${parts.length} field${parts.length === 1 ? '' : 's'}, not the six of NCRONTAB ("{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "0 */5 * * * *"), nor a TimeSpan (hh:mm:ss)`;
  for (const [i, part] of parts.entries()) {
    const field = FIELDS[i]!;
    for (const item of part.split(',')) {
      const problem = itemProblem(item, field);
      if (problem) return `field ${i + 1} (${field.name}): ${problem}`;
    }
  }
  return undefined;
}

function itemProblem(item: string, field: Field): string | undefined {
  if (item === '') return 'has an empty list item';
  const [base, step, ...more] = item.split('/');
  if (more.length > 0) return 'has more than one "/"';
  const range = field.max - field.min;
  if (step !== undefined) {
    if (!/^\d+$/.test(step)) return 'a step is not a whole number';
    const n = Number(step);
    if (n < 1) return 'a step must be at least 1';
    if (n > range)
      return `step ${n} is larger than the field's range (${field.min}-${field.max}): it would fire once, not every ${n}`;
  }
  if (base === '*') return undefined;
  const [first, last, ...rest] = base!.split('-');
  if (rest.length > 0) return 'has a range with more than one "-"';
  const from = value(first!, field);
  if (typeof from === 'string') return from;
  if (last === undefined) return undefined;
  const to = value(last, field);
  if (typeof to === 'string') return to;
  if (to < from) return `the range ${from}-${to} runs backwards`;
  return undefined;
}

function value(text: string, field: Field): number | string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < field.min || n > field.max) return `${n} is outside ${field.min}-${field.max}`;
    return n;
  }
  if (field.names && /^[a-z]+$/i.test(text)) {
    const i = field.names.findIndex((name) => name.toLowerCase().startsWith(text.toLowerCase()));
    if (i >= 0) return field.min + i;
    return `a name is not a ${field.name} (${field.names.map((n) => n.slice(0, 3)).join(', ')})`;
  }
  return `a value is not a number${field.names ? ' or a name' : ''} (${field.min}-${field.max})`;
}
