#!/usr/bin/env node
// Runs a command with the simulator's local CA trusted (NODE_EXTRA_CA_CERTS), making the CA first if needed.
// Node reads NODE_EXTRA_CA_CERTS only at process start, so it is set here, before the test runner, the
// demo or the benchmark start; every child they spawn inherits it.
// Usage: node tools/with-simulator-ca.mjs <command> [args...]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { ensureSimulatorTls } = require('./simulator/tls.cjs');

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: with-simulator-ca.mjs <command> [args...]');
  process.exit(2);
}
const { caPath } = ensureSimulatorTls();
// `.localhost` names resolve to loopback in every Node process below (see simulator/loopback-dns.cjs).
const dnsShim = require.resolve('./simulator/loopback-dns.cjs');
const nodeOptions = [process.env.NODE_OPTIONS, `--require ${JSON.stringify(dnsShim)}`]
  .filter(Boolean)
  .join(' ');
const child = spawn(command, args, {
  stdio: 'inherit',
  env: { ...process.env, NODE_EXTRA_CA_CERTS: caPath, NODE_OPTIONS: nodeOptions },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
