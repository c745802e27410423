/**
 * `defender-relay check`: the deep health checks (src/health/checks.ts) from a terminal. Prints one line
 * per check (or, with --json, the report); exit status 0 when healthy or degraded, 1 when unhealthy.
 */
import { runHealthChecks } from '../health/checks';

export async function runCheck(
  relay: Parameters<typeof runHealthChecks>[0],
  options: { json?: boolean; write?: (text: string) => void } = {},
): Promise<number> {
  const write = options.write ?? ((t: string) => process.stdout.write(t));
  const report = await runHealthChecks(relay);
  if (options.json) {
    write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const c of report.checks) {
      const mark = c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn';
      write(`${mark}  ${c.name}: ${c.detail}\n`);
    }
    write(`\n${report.status}\n`);
  }
  return report.status === 'unhealthy' ? 1 : 0;
}
