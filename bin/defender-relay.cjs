#!/usr/bin/env node
'use strict';
// Runs the built CLI (dist/cli.js, from `npm run build`), or the TypeScript source through tsx in a checkout.
const path = require('node:path');
const fs = require('node:fs');

const built = path.join(__dirname, '..', 'dist', 'cli.js');
let main;
if (fs.existsSync(built)) {
  ({ main } = require(built));
} else {
  require('tsx/cjs');
  ({ main } = require(path.join(__dirname, '..', 'src', 'cli', 'main.ts')));
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error && error.message ? error.message : String(error));
    process.exitCode = 1;
  },
);
