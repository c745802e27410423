// Bundles the Functions entry point and the CLI into dist/ with esbuild. `@azure/functions-core` is
// provided by the Functions host at run time, so it stays external.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  legalComments: 'none',
  external: ['@azure/functions-core'],
  // Some bundled ESM packages read import.meta.url, which a CommonJS bundle has not: give them the bundle's.
  define: { 'import.meta.url': 'importMetaUrl' },
  inject: ['tools/import-meta-url.js'],
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { index: 'src/index.ts' }, outdir: 'dist' });
await build({ ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' });
console.log('built dist/index.js and dist/cli.js');
