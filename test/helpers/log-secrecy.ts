/**
 * Suite-wide log secrecy (jest `setupFilesAfterEnv`): in every test file, every line logged through the
 * console or a Functions `InvocationContext` (whatever log handler the test gave it), and the output of the
 * CLI child processes the tests run, is kept; after the file, none may hold a credential the simulator made
 * in it (client secrets, Key Vault secret values, the managed-identity header, the signature of any token it
 * signed). A leak fails the file, naming the line without repeating the secret.
 */
import { InvocationContext } from '@azure/functions';
import { simulatorSecrets } from '../../tools/simulator/util';

const captured: string[] = [];

declare global {
  var __RELAY_CAPTURE_OUTPUT__: ((text: string) => void) | undefined;
}
globalThis.__RELAY_CAPTURE_OUTPUT__ = (text) => captured.push(text);

function text(args: unknown[]): string {
  return args
    .map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.name}: ${a.message}` : safeJson(a)))
    .join(' ');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    captured.push(text(args));
    original(...args);
  };
}

const proto = InvocationContext.prototype as unknown as Record<string, (...args: unknown[]) => void>;
for (const level of ['log', 'trace', 'debug', 'info', 'warn', 'error']) {
  const original = proto[level]!;
  proto[level] = function (this: InvocationContext, ...args: unknown[]) {
    captured.push(text(args));
    return original.apply(this, args);
  };
}

afterAll(() => {
  const secrets = [...simulatorSecrets()];
  const leaks: string[] = [];
  for (const line of captured) {
    for (const secret of secrets) {
      if (line.includes(secret)) {
        leaks.push(`${line.replaceAll(secret, '[SECRET]').slice(0, 160)}`);
        break;
      }
    }
  }
  if (leaks.length > 0) {
    throw new Error(
      `${leaks.length} log line(s) hold a credential made by the simulator:\n${leaks.slice(0, 5).join('\n')}`,
    );
  }
});
