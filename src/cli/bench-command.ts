/**
 * `defender-relay bench [--json] [--quick] [--scale <f>] [--only <names>]`: runs the benchmark
 * (tools/bench/main.ts, the same as `npm run bench`) from a checkout. It is spawned, not imported, so the CLI
 * and the bundle carry none of it; the wrapper trusts the simulator CA and resolves *.localhost to loopback.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The checkout holding tools/bench (from src/cli or from dist/ after a build). */
export function findCheckout(from = __dirname): string | undefined {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'tools', 'bench', 'main.ts'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

export function runBench(args: string[]): Promise<number> {
  const root = findCheckout();
  if (!root) {
    console.error('defender-relay bench runs from a checkout of the project (tools/bench is not here).');
    return Promise.resolve(2);
  }
  let tsx: string;
  try {
    tsx = require.resolve('tsx/cli', { paths: [root] });
  } catch {
    console.error('defender-relay bench needs the dev dependencies: run `npm install` in the checkout.');
    return Promise.resolve(2);
  }
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'tools', 'with-simulator-ca.mjs'),
        process.execPath,
        tsx,
        path.join(root, 'tools', 'bench', 'main.ts'),
        ...args,
      ],
      { cwd: root, stdio: 'inherit' },
    );
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.on('error', (error) => {
      console.error(`could not start the benchmark: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
