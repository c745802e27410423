/** The human-readable table of `npm run bench` (the JSON object holds the same figures, and more). */

type Json = Record<string, unknown>;

const get = (o: unknown, p: string): unknown =>
  p.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), o);
const ok = (b: unknown) => (b === true ? 'yes' : b === false ? 'NO' : '');

export function printTable(out: Json): void {
  const rows: [string, string, string, string][] = [];
  const row = (what: string, value: unknown, target = '', met: unknown = '') =>
    rows.push([what, value === undefined ? '-' : String(value), target, ok(met)]);
  const m = out.machine as Json;
  console.log(
    `Machine: ${String(m.cores)} cores (${String(m.cpuModel)}), ${String(m.memoryGiB)} GiB, Node ${String(m.node)}, ${String(m.platform)}; ${String(out.mode)} run`,
  );
  if (out.throughput) {
    const t = out.throughput as Json;
    row(`1 relay incidents/s (${String(t.incidents)} incidents)`, get(t, 'relay.incidentsPerSecond'));
    row('1 floor incidents/s', get(t, 'floor.incidentsPerSecond'));
    row('1 ratio relay/floor', t.ratio, '>= 0.9', (t.ratio as number) >= 0.9);
    row('1 relay CPU ms/incident', get(t, 'relay.cpuMsPerIncident'));
    row('1 floor CPU ms/incident', get(t, 'floor.cpuMsPerIncident'));
    row('1 CPU ratio relay/floor', t.cpuRatio, '<= 1.25', (t.cpuRatio as number) <= 1.25);
  }
  if (out.economy) {
    const e = out.economy as Json;
    row(
      `2 Graph calls (${String(get(e, 'graph.incidents'))} incidents, ${String(get(e, 'graph.tenants'))} tenants)`,
      `${String(get(e, 'graph.calls'))} = ${String(get(e, 'graph.ratio'))} x floor ${String(get(e, 'graph.floor'))}`,
      '<= 1.15 x ceil(N/50)',
      (get(e, 'graph.ratio') as number) <= 1.15,
    );
    row(
      `2 Graph calls, steady run (${String(get(e, 'graph.steady.incidentsInWindow'))} in the window)`,
      `${String(get(e, 'graph.steady.calls'))} = ${String(get(e, 'graph.steady.ratio'))} x floor ${String(get(e, 'graph.steady.floor'))}`,
      '<= 1.15 x ceil(N/50)',
      (get(e, 'graph.steady.ratio') as number) <= 1.15,
    );
    row(
      `2 legacy calls (${String(get(e, 'legacy.incidents'))} incidents)`,
      get(e, 'legacy.calls'),
      `min ${String(get(e, 'legacy.minimum'))}`,
      get(e, 'targets.legacyPagesAtMinimum'),
    );
    const fan = get(e, 'tokensPerTenant.fanoutTwoRounds') as Json | undefined;
    row(
      '2 token requests per tenant',
      `${String(get(e, 'tokensPerTenant.throughputTenant'))} / ${String(get(e, 'tokensPerTenant.legacyTenant'))} / ${String(fan?.min)}-${String(fan?.max)} (fan-out, 2 rounds)`,
      '1',
      get(e, 'targets.oneTokenPerTenant'),
    );
    row(
      '2 Key Vault reads per secret',
      `${String(get(e, 'keyVaultReadsPerSecret.throughputProcess'))} / ${String(get(e, 'keyVaultReadsPerSecret.fanoutProcessTwoRounds'))} (fan-out, 2 rounds)`,
      '1',
      get(e, 'targets.oneKeyVaultReadPerSecret'),
    );
  }
  if (out.fanout) {
    const f = out.fanout as Json;
    row(
      `3 fan-out round (${String(f.tenants)} tenants, ${String(f.apiLatencyMs)} ms, ${String(f.concurrency)} workers) ms`,
      f.roundWallMs,
      '< 30000',
      (f.roundWallMs as number) < 30_000,
    );
    row('3 fan-out peak RSS MiB', f.peakRssMiB, '< 300', (f.peakRssMiB as number) < 300);
  }
  if (out.backlog) {
    const b = out.backlog as Json;
    for (const mark of b.atMarks as Json[])
      row(`4 backlog peak RSS MiB at ${String(mark.incidents)}`, mark.peakRssMiB, '< 200, flat');
    const ratio = (b.graphCalls as number) / (b.graphCallsFloor as number);
    row(
      `4 backlog Graph calls (${String(b.incidents)} incidents, one tenant)`,
      `${String(b.graphCalls)} = ${Math.round(ratio * 1000) / 1000} x floor ${String(b.graphCallsFloor)}`,
      '<= 1.15 x ceil(N/50)',
      ratio <= 1.15,
    );
    row(
      `4 backlog peak RSS MiB (${String(b.incidents)})`,
      b.peakRssMiB,
      '< 200, flat',
      get(b, 'targets.met'),
    );
  }
  if (out.coldStart) {
    const c = out.coldStart as Json;
    row('5 bundle load ms (median)', get(c, 'bundled.loadMs'));
    row('5 unbundled load ms (median)', get(c, 'unbundled.loadMs'));
    row('5 ratio bundle/unbundled', c.ratio, '<= 0.5', get(c, 'targets.met'));
    row('5 bundle size KiB', Math.round((get(c, 'bundled.bytes') as number) / 1024));
  }
  if (out.sweep) {
    const sw = out.sweep as Json;
    row(
      `6 sweep API calls (${String(sw.versions)}-version day)`,
      `${String(get(sw, 'sweep.apiCalls'))} (floor ${String(get(sw, 'sweep.floorCalls'))})`,
    );
    row(
      '6 sweep wall s / CPU s',
      `${String(get(sw, 'sweep.wallSeconds'))} / ${String(get(sw, 'sweep.cpuSeconds'))}`,
    );
    row(
      '6 sweep versions checked / repaired',
      `${String(get(sw, 'sweep.checked'))} / ${String(get(sw, 'sweep.repaired'))}`,
      'all hidden repaired',
      get(sw, 'targets.repairedAll'),
    );
    row(
      '6 delivered record rows / KiB',
      `${String(get(sw, 'deliveredRecord.rows'))} / ${Math.round((get(sw, 'deliveredRecord.approxBytes') as number) / 1024)}`,
    );
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length), 6));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(line(['figure', 'value', 'target', 'met']));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log(`(benchmark took ${String(out.benchmarkWallSeconds)} s; --json for every figure)`);
}
