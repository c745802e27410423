/** SYNC_SCHEDULE as the Functions host reads it: NCRONTAB parsed field by field, TimeSpan by plan. */
import { ncrontabProblem, scheduleProblem } from '../../src/config/ncrontab';
import { ConfigError, loadConfig } from '../../src/config/settings';

test.each([
  '0 */5 * * * *',
  '0 0 * * * *',
  '0 0 9-17 * * *',
  '0 30 9 * * 1-5',
  '0 30 9 * Jan Mon',
  '0 0 0 1 January,july *',
  '*/10 * * * * *',
  '5/15 * * * * *',
  '0 0 0-12/3 * * sat',
  '0 0 0 31 12 0',
  '  0 */5 * * * *  ',
])('"%s" is a schedule the host runs', (expr) => {
  expect(scheduleProblem(expr)).toBeUndefined();
});

test.each([
  ['0 */75 * * * *', /field 2 \(minute\): step 75 is larger than the field's range \(0-59\)/],
  ['every five minutes', /has 3 fields, not the six of NCRONTAB/],
  ['often', /has 1 field, not the six/],
  ['*/5 * * * *', /has 5 fields/],
  ['0 60 * * * *', /field 2 \(minute\): 60 is outside 0-59/],
  ['0 0 24 * * *', /field 3 \(hour\): 24 is outside 0-23/],
  ['0 0 0 0 * *', /field 4 \(day\): 0 is outside 1-31/],
  ['0 0 0 * 13 *', /field 5 \(month\): 13 is outside 1-12/],
  ['0 0 0 * * 7', /field 6 \(day of week\): 7 is outside 0-6/],
  ['0 0 0 * Smarch *', /field 5 \(month\): a name is not a month \(Jan, Feb/],
  ['0 0 17-9 * * *', /the range 17-9 runs backwards/],
  ['0 0 1,,2 * * *', /empty list item/],
  ['0 */0 * * * *', /a step must be at least 1/],
  ['0 */x * * * *', /a step is not a whole number/],
  ['0 1-2-3 * * * *', /more than one "-"/],
  ['0 five * * * *', /field 2 \(minute\): a value is not a number \(0-59\)/],
  ['0 */5/2 * * * *', /more than one "\/"/],
])('"%s" is refused with the reason', (expr, reason) => {
  const problem = ncrontabProblem(expr);
  expect(problem).toMatch(reason);
  // The reason never repeats the words of the value.
  for (const word of expr.split(/\s+/).filter((w) => /[a-z]{3}/i.test(w)))
    expect(problem).not.toContain(word);
});

test('a TimeSpan runs on an App Service plan, not on Flex Consumption or Consumption', () => {
  expect(scheduleProblem('00:05:00')).toBeUndefined();
  expect(scheduleProblem('00:05:00', 'ElasticPremium')).toBeUndefined();
  expect(scheduleProblem('00:05:00', 'FlexConsumption')).toMatch(
    /TimeSpan \(hh:mm:ss\), which the Functions host runs only on an App Service plan, not on Flex Consumption \(WEBSITE_SKU\)/,
  );
  expect(scheduleProblem('00:05:00', 'Dynamic')).toMatch(/not on Consumption/);
  expect(scheduleProblem('25:00:00')).toMatch(/not a valid TimeSpan/);
  expect(scheduleProblem('00:00:00')).toMatch(/TimeSpan of zero/);
});

const base = {
  DEFENDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  DEFENDER_CLIENT_ID: '22222222-2222-2222-2222-222222222222',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  KEY_VAULT_URL: 'https://relay-kv.vault.azure.net',
};

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
    return '';
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

test('loadConfig names SYNC_SCHEDULE with the reason', () => {
  expect(problemsOf({ ...base, SYNC_SCHEDULE: '0 */75 * * * *' })).toContain(
    'SYNC_SCHEDULE: field 2 (minute): step 75 is larger',
  );
  expect(loadConfig({ ...base, SYNC_SCHEDULE: '0 0 */2 * * *' }).sync.schedule).toBe('0 0 */2 * * *');
});

test('loadConfig refuses a TimeSpan when the host says the plan is Flex Consumption', () => {
  expect(loadConfig({ ...base, SYNC_SCHEDULE: '00:05:00' }).sync.schedule).toBe('00:05:00');
  expect(problemsOf({ ...base, SYNC_SCHEDULE: '00:05:00', WEBSITE_SKU: 'FlexConsumption' })).toContain(
    'SYNC_SCHEDULE: is a TimeSpan (hh:mm:ss), which the Functions host runs only on an App Service plan, not on Flex Consumption',
  );
});
