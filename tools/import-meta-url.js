// Injected by tools/build.mjs: ESM packages bundled into the CommonJS output read import.meta.url.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
