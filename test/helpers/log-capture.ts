/**
 * Log secrecy: captures every log line of a test file (the handlers' InvocationContext and the console)
 * and every response body, and checks that none holds a secret or token the test registered (client
 * secrets, signing secrets, user and Defender tokens, signatures). A token is also looked for by its
 * signature part alone, so a truncated token is caught too.
 */
import { InvocationContext } from '@azure/functions';

export class LogCapture {
  readonly lines: string[] = [];
  private readonly secrets = new Set<string>();
  private spies: jest.SpyInstance[] = [];

  /** Spies on console.* for the rest of the file (lines are kept, not printed). */
  install(): this {
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      this.spies.push(
        jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
          this.lines.push(args.map(String).join(' '));
        }),
      );
    }
    return this;
  }

  restore(): void {
    for (const s of this.spies) s.mockRestore();
    this.spies = [];
  }

  context(functionName = 'test'): InvocationContext {
    return new InvocationContext({
      functionName,
      invocationId: `inv-${Math.random().toString(16).slice(2)}`,
      logHandler: (level, ...args) => this.lines.push(`[${level}] ${args.map(String).join(' ')}`),
    });
  }

  /** Something that must appear in no log line and no response. */
  secret(value: string | undefined): string {
    if (value && value.length >= 8) {
      this.secrets.add(value);
      const parts = value.split('.');
      if (parts.length === 3 && parts[2]!.length >= 16) this.secrets.add(parts[2]!);
    }
    return value ?? '';
  }

  /** Keeps a response body to be searched with the log lines. */
  response(text: string | undefined): void {
    if (text) this.lines.push(`[response] ${text}`);
  }

  /** Lines that hold a registered secret (each reported without the secret itself). */
  leaks(): string[] {
    const out: string[] = [];
    for (const line of this.lines) {
      for (const s of this.secrets) {
        if (line.includes(s)) out.push(`${line.slice(0, 80).replace(s, '[SECRET]')}… holds a secret`);
      }
      if (/\n\s+at .+\(.+:\d+:\d+\)/.test(line)) out.push(`${line.slice(0, 80)}… holds a stack trace`);
    }
    return out;
  }

  get secretCount(): number {
    return this.secrets.size;
  }
}
