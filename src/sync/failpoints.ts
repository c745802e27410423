/**
 * Crash points for the crash-safety test (test/integration/crash-safety.test.ts). Off unless the
 * environment names one: `RELAY_FAILPOINT=<name>:<n>` makes the n-th pass through `failpoint(name)` print
 * `FAILPOINT <name>` on stderr and stop there, so the test can SIGKILL the process at exactly that point.
 * Names: `page-read` (a page fetched, nothing delivered), `queue-sent` (one message sent, mid-delivery),
 * `delivered` (every destination accepted the page, not yet recorded), `recorded` (recorded as delivered;
 * on Graph the checkpoint moved in the same transaction, and the next page may already be on its way).
 */
const spec = /^([a-z-]+):(\d+)$/.exec(process.env.RELAY_FAILPOINT ?? '');
const armed = spec ? { name: spec[1], at: Number(spec[2]) } : undefined;
let passes = 0;

export function failpoint(name: string): Promise<void> | void {
  if (!armed || armed.name !== name || ++passes !== armed.at) return;
  process.stderr.write(`FAILPOINT ${name}\n`);
  // Hold the process here (a pending promise alone would let Node exit) until it is killed.
  setInterval(() => undefined, 60_000);
  return new Promise<void>(() => undefined);
}
