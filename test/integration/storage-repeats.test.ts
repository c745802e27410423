/**
 * Storage dropping a connection mid-send: the queue service stored the message, but its answer never
 * reached the relay. The relay cannot know the message is there, so it sends it again (at least once),
 * and it counts the resend as a possible repeat instead of hiding it (the SDK's own retries would resend
 * silently). The repeat carries the same CloudEvents `id`, and nothing is lost.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { startWorld, storageConnectionString } from '../helpers/world';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});

/** A proxy in front of Azurite's queue endpoint that drops the connection after the n-th message was stored. */
async function droppingQueueProxy(queueEndpoint: string, dropAfter: number[]) {
  const target = new URL(queueEndpoint);
  let posts = 0;
  let dropped = 0;
  const server = http.createServer((req, res) => {
    const isSend = req.method === 'POST' && /\/messages(\?|$)/.test(req.url ?? '');
    const n = isSend ? ++posts : 0;
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (dropAfter.includes(n)) {
          // Azurite has stored the message; its answer is lost with the connection.
          dropped++;
          answer.resume();
          req.socket.destroy();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}${target.pathname}`,
    dropped: () => dropped,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('a send whose answer was lost is sent again, counted as a possible repeat, with the same id', async () => {
  const cs = storageConnectionString();
  const queueEndpoint = /QueueEndpoint=([^;]+)/.exec(cs)?.[1];
  expect(queueEndpoint).toBeDefined();
  const proxy = await droppingQueueProxy(queueEndpoint!, [3, 7]);
  try {
    const world = await startWorld({
      sim,
      env: { AzureWebJobsStorage: cs.replace(/QueueEndpoint=[^;]+/, `QueueEndpoint=${proxy.endpoint}`) },
    });
    sim.incidents.seed(world.tenantId, 12, { spreadHours: 1 });
    const run = await world.relay.syncAll();
    expect(run.errors).toEqual([]);
    expect(proxy.dropped()).toBe(2);
    const result = run.results[0]!;
    expect(result.delivered).toBe(12);
    expect(result.possibleRepeats).toBe(2);

    const events = await world.drainQueue();
    // Every version is there; the two whose answers were lost are there twice, with one id each.
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(12);
    expect(events).toHaveLength(14);
    await world.stop();
  } finally {
    await proxy.close();
  }
});
