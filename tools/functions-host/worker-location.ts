/**
 * Where the real Azure Functions Node.js language worker is: `<repo>/../shared/functions-worker` (built from
 * Microsoft's source; see its README), with the gRPC contract in `proto/`. A user's own clone has no such
 * folder: `findWorker()` then says so and returns undefined.
 */
import fs from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const DEFAULT_WORKER_ROOT = path.resolve(REPO_ROOT, '..', 'shared', 'functions-worker');

export interface WorkerLocation {
  /** `worker/`: what the host calls the worker directory (worker.config.json is there). */
  workerDirectory: string;
  /** `worker/dist/src/nodejsWorker.js`, the `defaultWorkerPath` of worker.config.json. */
  entry: string;
  /** `proto/FunctionRpc.proto` and the files it imports. */
  protoDir: string;
  config: {
    description: { defaultWorkerPath: string; workerIndexing?: string };
    processOptions?: { initializationTimeout?: string; environmentReloadTimeout?: string };
  };
  version: string;
}

export function findWorker(
  root = process.env.FUNCTIONS_WORKER_ROOT ?? DEFAULT_WORKER_ROOT,
): WorkerLocation | undefined {
  const workerDirectory = path.join(root, 'worker');
  const configPath = path.join(workerDirectory, 'worker.config.json');
  const protoDir = path.join(root, 'proto');
  if (!fs.existsSync(configPath) || !fs.existsSync(path.join(protoDir, 'FunctionRpc.proto')))
    return undefined;
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as WorkerLocation['config'];
  const entry = path.join(workerDirectory, config.description.defaultWorkerPath);
  if (!fs.existsSync(entry)) return undefined;
  const pkg = JSON.parse(fs.readFileSync(path.join(workerDirectory, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return { workerDirectory, entry, protoDir, config, version: pkg.version ?? 'unknown' };
}

/** "00:02:00" (a .NET TimeSpan, as worker.config.json and host.json write them) in milliseconds. */
export function timeSpanMs(value: string | undefined, fallbackMs: number): number {
  const m = value ? /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value.trim()) : null;
  if (!m) return fallbackMs;
  const [, days, h, min, s, frac] = m;
  return (
    ((Number(days ?? 0) * 24 + Number(h)) * 3600 + Number(min) * 60 + Number(s)) * 1000 +
    (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0)
  );
}
