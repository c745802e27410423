/**
 * The simulator's incident versions as the relay's version keys (`tenant/incident/time with 7 digits`),
 * to compare with what a sync delivered.
 */
import type { World } from './world';

function canonical(t: string): string {
  const [whole, frac = ''] = t.replace('Z', '').split('.');
  return `${whole}.${frac.padEnd(7, '0')}Z`;
}

/** The newest version of each incident the tenant has, as version keys. */
export function currentVersionKeys(world: World): string[] {
  return world.sim.incidents
    .ids(world.tenantId)
    .map((id) => world.sim.incidents.get(world.tenantId, id))
    .map((i) => `${world.tenantId}/${i.id}/${canonical(i.lastUpdateDateTime)}`)
    .sort();
}

/** Every version the tenant's incidents ever had, as version keys. */
export function everyVersionKey(world: World): Set<string> {
  return new Set(
    world.sim.incidents
      .history(world.tenantId)
      .map((h) => `${world.tenantId}/${h.incidentId}/${canonical(h.lastUpdate)}`),
  );
}
