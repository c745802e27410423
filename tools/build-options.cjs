// The esbuild settings of the Functions bundle, shared by `npm run build` (tools/build.mjs) and the test
// host for the real worker (tools/functions-host/stage.ts), so the app the worker runs in the tests is
// bundled exactly as the deployed one. `@azure/functions-core` is provided by the Functions worker at run
// time, so it stays external.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

function bundleOptions() {
  return {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    legalComments: 'none',
    external: ['@azure/functions-core'],
    // Some bundled ESM packages read import.meta.url, which a CommonJS bundle has not: give them the bundle's.
    define: { 'import.meta.url': 'importMetaUrl' },
    inject: [path.join(ROOT, 'tools/import-meta-url.js')],
    logLevel: 'warning',
    absWorkingDir: ROOT,
  };
}

module.exports = { bundleOptions, ROOT };
