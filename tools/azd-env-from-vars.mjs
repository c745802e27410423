#!/usr/bin/env node
/**
 * The deploy workflow's bridge from the repository's GitHub variables to the azd environment: every name
 * infra/main.parameters.json reads (`${NAME}` or `${NAME=default}`) that is set, non-empty, in VARS_JSON
 * (`${{ toJSON(vars) }}`) is stored with `azd env set`, so a deploy on every push keeps what the team
 * chose (WEBHOOKS, CONSENT_REDIRECT_URI, …) and a name left unset keeps its default. A new parameter needs
 * no change here. Values go to azd as arguments, never through a shell. Nothing here is a secret: the
 * relay's settings hold names of Key Vault secrets, never their values (docs/deploy.md).
 *
 *   VARS_JSON='{"WEBHOOKS":"[…]"}' node tools/azd-env-from-vars.mjs [parameters file]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Set by `azd env new` from the workflow's own inputs. */
const SET_BY_AZD = new Set(['AZURE_ENV_NAME', 'AZURE_LOCATION', 'AZURE_SUBSCRIPTION_ID']);

export function parameterNames(text) {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=[^}]*)?\}/g)].map((m) => m[1]))];
}

function main() {
  const file = process.argv[2] ?? path.join(here, '..', 'infra', 'main.parameters.json');
  let vars;
  try {
    vars = JSON.parse(process.env.VARS_JSON ?? '{}');
  } catch {
    console.error('azd-env-from-vars: VARS_JSON is not JSON (set it to ${{ toJSON(vars) }}).');
    process.exit(2);
  }
  const kept = [];
  for (const name of parameterNames(readFileSync(file, 'utf8'))) {
    const value = vars[name];
    if (SET_BY_AZD.has(name) || typeof value !== 'string' || value === '') continue;
    const r = spawnSync('azd', ['env', 'set', name, value], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) {
      console.error(
        `azd-env-from-vars: azd env set ${name} failed (${r.error?.message ?? `exit ${r.status}`}).`,
      );
      process.exit(1);
    }
    kept.push(name);
  }
  console.log(
    `azd-env-from-vars: kept ${kept.length} setting(s) from the repository variables: ${kept.join(', ') || '-'}`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
