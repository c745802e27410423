/**
 * Runs the `defender-relay` command in a child process, from the TypeScript source (through tsx), so the
 * tests always run the code as it is in the checkout (bin/defender-relay.cjs prefers the built bundle).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const MAIN = path.resolve(__dirname, '../../src/cli/main.ts');

/** `unset`: variables of the test process the child must not inherit (e.g. IDENTITY_ENDPOINT). */
export function spawnCli(args: string[], env: Record<string, string>, unset: string[] = []): ChildProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of unset) delete childEnv[name];
  return spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), MAIN, ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runCli(
  args: string[],
  env: Record<string, string>,
  unset: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env, unset);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      // What the command printed is searched for leaked credentials too (test/helpers/log-secrecy.ts).
      globalThis.__RELAY_CAPTURE_OUTPUT__?.(`${stdout}\n${stderr}`);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}
