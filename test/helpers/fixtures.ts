import fs from 'node:fs';
import path from 'node:path';

/** Microsoft's documented example responses, in ../shared/fixtures beside the checkout. */
export const FIXTURES_DIR = path.resolve(__dirname, '../../../shared/fixtures');

export function readFixture(name: string): { value: Record<string, unknown>[] } {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8')) as {
    value: Record<string, unknown>[];
  };
}
