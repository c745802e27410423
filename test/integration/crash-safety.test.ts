/**
 * Crash safety: the sync runs in a real child process (the CLI) that is SIGKILLed at exact points — after
 * a page is read, in the middle of delivering a page, after a page was delivered but before it was
 * recorded, after it was recorded but before the checkpoint moved — and then run again. Nothing is lost,
 * and anything delivered twice was, at the moment of the kill, not yet recorded as delivered.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import { canonicalTimestamp } from '../../src/defender/timestamp';
import { startWorld, type World } from '../helpers/world';
import { runCli, spawnCli } from '../helpers/cli';

let sim: Simulator;
let world: World;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});

function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...world.env, ...identityEnv(sim), ...extra };
}

/**
 * The killed process still holds the tenant's lease, which would expire by itself within 60 s; break it
 * now instead (as if that time had passed), so the next run does not find the tenant busy.
 */
async function expireLease(): Promise<void> {
  const blob = world.relay.storage.blobs
    .getContainerClient(world.config.sync.leasesContainer)
    .getBlobClient(world.tenantId);
  await blob.getBlobLeaseClient().breakLease(0);
}

/** Runs the CLI until it reaches the failpoint, then SIGKILLs it; resolves with the exit signal. */
function killAt(failpoint: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(['sync', '--json'], cliEnv({ RELAY_FAILPOINT: failpoint }));
    let stderr = '';
    let killed = false;
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!killed && stderr.includes(`FAILPOINT ${failpoint.split(':')[0]}`)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!killed) reject(new Error(`the sync ended (code ${code}) before reaching ${failpoint}: ${stderr}`));
      else resolve(signal);
    });
  });
}

test.each(['graph', 'legacy'] as const)(
  'SIGKILL at every point of a %s sync loses nothing',
  async (api) => {
    world = await startWorld({ api, sim });
    const base = Date.now() - 3 * 3600_000;
    // 330 versions over three hours: seven Graph pages or four legacy pages.
    for (let i = 0; i < 330; i++)
      sim.incidents.create(
        world.tenantId,
        {},
        { stamp: new Date(base + i * 30_000).toISOString(), alerts: 1 },
      );
    const expected = sim.incidents
      .ids(world.tenantId)
      .map(
        (id) =>
          `${world.tenantId}/${id}/${canonicalTimestamp(sim.incidents.get(world.tenantId, id).lastUpdateDateTime)}`,
      )
      .sort();

    const onQueue: string[] = [];
    const runs = ['page-read:2', 'queue-sent:20', 'delivered:1', 'recorded:1', 'queue-sent:7', 'delivered:2'];
    for (const failpoint of runs) {
      // What had been recorded as delivered when this run started (and so, when it was killed, at least).
      const recorded = await world.relay.state.deliveredSince(world.tenantId, 0n);
      expect(await killAt(failpoint)).toBe('SIGKILL');
      await expireLease();
      const seenBefore = new Set(onQueue);
      const fresh = (await world.drainQueue()).map((e) => e.id);
      for (const id of fresh) {
        // A repeat is only ever of a version whose delivery had not been recorded.
        if (seenBefore.has(id)) expect(recorded.has(id)).toBe(false);
      }
      onQueue.push(...fresh);
    }
    const finish = await runCli(['sync', '--json'], cliEnv());
    expect(finish.code).toBe(0);
    onQueue.push(...(await world.drainQueue()).map((e) => e.id));

    // Nothing lost: every version is on the queue.
    expect([...new Set(onQueue)].sort()).toEqual(expected);
    // Repeats happened (the kills were real), and were bounded by what was in flight: at most two pages' worth
    // per kill that struck after sending and before recording.
    const repeats = onQueue.length - new Set(onQueue).size;
    expect(repeats).toBeGreaterThan(0);
    expect(repeats).toBeLessThanOrEqual(4 * 100);
    // A clean run afterwards delivers nothing again.
    const again = await runCli(['sync', '--json'], cliEnv());
    expect(JSON.parse(again.stdout).incidentsDelivered).toBe(0);
    expect(await world.drainQueue()).toEqual([]);
    // Eight CLI child processes: a hang guard for a loaded 2-core machine, not a timing.
  },
  240_000,
);
