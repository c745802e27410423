// Bundles the Functions entry point and the CLI into dist/ with esbuild (settings: tools/build-options.cjs).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { bundleOptions } = require('./build-options.cjs');

rmSync('dist', { recursive: true, force: true });
const common = bundleOptions();
await build({ ...common, entryPoints: { index: 'src/index.ts' }, outdir: 'dist' });
await build({ ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' });
console.log('built dist/index.js and dist/cli.js');
