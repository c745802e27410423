/**
 * Stages a folder shaped like the deployment package (`package.json`, `host.json`, `dist/`) for the worker:
 * the Functions entry point is bundled into it with the settings of `npm run build` (tools/build-options.cjs),
 * so the worker runs what would be deployed, built from the checkout as it is now (a stale or missing
 * `dist/` in the checkout cannot be what is tested, and the checkout's `dist/` is never touched).
 * `node_modules` is reachable through a link to the checkout's, as it is in the package.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { bundleOptions } from '../build-options.cjs';
import { REPO_ROOT } from './worker-location';

export interface StagedApp {
  dir: string;
  hostJson: HostJson;
  remove(): void;
}

export interface HostJson {
  version?: string;
  functionTimeout?: string;
  extensions?: {
    http?: { routePrefix?: string };
    queues?: {
      maxDequeueCount?: number;
      visibilityTimeout?: string;
      batchSize?: number;
      messageEncoding?: 'base64' | 'none';
      maxPollingInterval?: string;
    };
  };
  [key: string]: unknown;
}

/** host.json with a deep merge of `overrides` (e.g. a shorter queue retry delay for a test). */
function mergeHostJson(base: HostJson, overrides: Partial<HostJson> | undefined): HostJson {
  if (!overrides) return base;
  const merge = (a: unknown, b: unknown): unknown => {
    if (b && typeof b === 'object' && !Array.isArray(b) && a && typeof a === 'object' && !Array.isArray(a)) {
      const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
      return out;
    }
    return b === undefined ? a : b;
  };
  return merge(base, overrides) as HostJson;
}

export async function stageApp(options: { hostJson?: Partial<HostJson> } = {}): Promise<StagedApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-functions-app-'));
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { main: string };
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    const hostJson = mergeHostJson(
      JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'host.json'), 'utf8')) as HostJson,
      options.hostJson,
    );
    fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify(hostJson, null, 2));
    await build({
      ...bundleOptions(),
      entryPoints: { index: path.join(REPO_ROOT, 'src/index.ts') },
      outdir: path.join(dir, 'dist'),
    });
    if (!fs.existsSync(path.join(dir, pkg.main)))
      throw new Error(`the bundle is not at package.json's main (${pkg.main})`);
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    return { dir, hostJson, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** An empty site, as the host's placeholder (a Flex Consumption instance before it is assigned an app). */
export function stagePlaceholder(): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-functions-placeholder-'));
  fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify({ version: '2.0' }));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
