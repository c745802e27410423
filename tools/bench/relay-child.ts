/**
 * The relay under measurement, in its own process so that its CPU and memory are its own (the simulator
 * runs in the orchestrator, Azurite in a third process). Bundled by the orchestrator with the same esbuild
 * settings as dist/ and run with plain `node`, so the code measured is the code deployed.
 *
 *   node relay-child.js sync   [--tenant <id>] [--since <ISO>] [--marks 10000,50000]
 *       what `defender-relay sync --json` runs (relay.syncAll), with memory sampled as the backlog grows
 *   node relay-child.js fanout [--concurrency 16] [--rounds 2]
 *       one scheduled round as the Functions host runs it: the timer handler enqueues a job per tenant,
 *       `concurrency` workers take them off the jobs queue (syncWorker handler), delete them when done
 *
 * Settings come from the environment, as in the Function App. Prints one RESULT line (see proc.ts).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/settings';
import { createRelay, type Relay } from '../../src/relay';
import { summaryJson } from '../../src/sync/sync-tenants';
import { cpuMs, memory, report, type MemorySample } from './proc';

async function sync(relay: Relay, tenants: string[] | undefined, since: string | undefined, marks: number[]) {
  const samples: ({ fetched: number } & MemorySample)[] = [];
  let nextMark = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const summary = await relay.syncAll({
    tenants,
    since,
    onProgress: (p) => {
      while (nextMark < marks.length && p.fetched >= (marks[nextMark] as number)) {
        samples.push({ fetched: p.fetched, ...memory() });
        nextMark++;
      }
    },
  });
  const wallMs = performance.now() - t0;
  return {
    mode: 'sync',
    wallMs: Math.round(wallMs),
    cpuMs: cpuMs(cpu0),
    processCpuMs: cpuMs(),
    memory: memory(),
    samples,
    summary: summaryJson(summary),
  };
}

async function fanout(relay: Relay, concurrency: number, rounds: number) {
  const { InvocationContext } = await import('@azure/functions');
  const { syncSchedulerHandler } = await import('../../src/functions/sync-scheduler');
  const { syncWorkerHandler } = await import('../../src/functions/sync-worker');
  const logs = { lines: 0, errors: [] as string[] };
  const context = (functionName: string) =>
    new InvocationContext({
      functionName,
      logHandler: (level, ...args) => {
        logs.lines++;
        if (level === 'error' && logs.errors.length < 5) logs.errors.push(args.join(' '));
      },
    });
  const timer = {
    isPastDue: false,
    schedule: { adjustForDST: false },
    scheduleStatus: { last: '', next: '', lastUpdated: '' },
  };
  const jobs = relay.storage.queues.getQueueClient(relay.config.sync.jobsQueue);
  const worker = syncWorkerHandler(relay);
  const out: {
    round: number;
    wallMs: number;
    scheduleMs: number;
    cpuMs: number;
    jobs: number;
    failed: number;
    memory: MemorySample;
  }[] = [];
  const cpuAll = process.cpuUsage();
  for (let round = 1; round <= rounds; round++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await syncSchedulerHandler(relay)(timer, context('syncScheduler'));
    const scheduleMs = performance.now() - t0;
    // The host's queue listener: fetch a batch when the buffer runs low, hand messages to free workers,
    // delete each message when its invocation succeeded. Bounded: it stops at the first empty receive.
    const buffer: { messageId: string; popReceipt: string; messageText: string }[] = [];
    let fetching: Promise<number> | undefined;
    let drained = false;
    let done = 0;
    let failed = 0;
    const fill = () =>
      (fetching ??= jobs
        .receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 })
        .then((r) => {
          buffer.push(...r.receivedMessageItems);
          if (r.receivedMessageItems.length === 0) drained = true;
          return r.receivedMessageItems.length;
        })
        .finally(() => {
          fetching = undefined;
        }));
    const work = async () => {
      for (let guard = 0; guard < 1_000_000; guard++) {
        if (buffer.length === 0) {
          if (drained) return;
          await fill();
          continue;
        }
        const m = buffer.shift()!;
        try {
          await worker(
            JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')),
            context('syncWorker'),
          );
          await jobs.deleteMessage(m.messageId, m.popReceipt);
        } catch {
          failed++;
        }
        done++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, work));
    out.push({
      round,
      wallMs: Math.round(performance.now() - t0),
      scheduleMs: Math.round(scheduleMs),
      cpuMs: cpuMs(cpu0),
      jobs: done,
      failed,
      memory: memory(),
    });
  }
  return { mode: 'fanout', concurrency, rounds: out, cpuMs: cpuMs(cpuAll), memory: memory(), logs };
}

/**
 * BENCH_PHASES=1: wall time spent in each phase (reading pages, delivering, recording), summed over the run;
 * phases that overlap (a record written while the next page is read) are each counted in full.
 */
function timePhases(relay: Relay): Record<string, number> {
  const totals: Record<string, number> = {};
  const wrap = (name: string, target: object, method: string) => {
    const t = target as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const original = (t[method] as (...a: unknown[]) => Promise<unknown>).bind(target);
    t[method] = async (...args: unknown[]) => {
      const t0 = performance.now();
      try {
        return await original(...args);
      } finally {
        totals[name] = Math.round((totals[name] ?? 0) + performance.now() - t0);
      }
    };
  };
  for (const d of relay.destinations) wrap(`deliver:${d.name}`, d, 'deliver');
  wrap('recordDelivered', relay.state, 'recordDelivered');
  wrap('saveCursor', relay.state, 'saveCursor');
  wrap('pruneDelivered', relay.state, 'pruneDelivered');
  const http = (relay.source as unknown as { http: object }).http;
  wrap('defenderHttp', http, 'json');
  wrap('getToken', relay.tokens, 'getToken');
  return totals;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: 'string', multiple: true },
      since: { type: 'string' },
      marks: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
    },
  });
  const startup = { cpuMs: cpuMs(), memory: memory() };
  const config = loadConfig(process.env);
  const relay = createRelay(config);
  const phases = process.env.BENCH_PHASES ? timePhases(relay) : undefined;
  const mode = positionals[0];
  const result =
    mode === 'fanout'
      ? await fanout(relay, Number(values.concurrency ?? 16), Number(values.rounds ?? 1))
      : await sync(
          relay,
          values.tenant,
          values.since,
          (values.marks ?? '').split(',').filter(Boolean).map(Number),
        );
  report({ ...result, startup, keyVaultReads: relay.secrets?.readCount ?? 0, phases });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
