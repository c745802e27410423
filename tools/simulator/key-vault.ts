/**
 * Key Vault secrets on any `<vault>.vault.localhost` Host: the vaults with their secret versions and
 * RBAC (Key Vault Secrets User / Officer by principal id), and the data-plane API (get, set, list,
 * versions) with Key Vault's challenge and error shapes.
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import { KEY_VAULT_RESOURCE } from './clouds';
import { HttpError, type SimContext } from './context';
import { verifyOwnToken } from './entra';
import { isRecord, readBody, recordSecret, sendJson } from './util';

export interface SecretVersion {
  version: string;
  value: string;
  contentType?: string;
  tags: Record<string, string>;
  created: number;
}

export interface VaultRecord {
  secrets: Map<string, SecretVersion[]>;
  readers: Set<string>;
  officers: Set<string>;
}

export class KeyVaults {
  private readonly vaults = new Map<string, VaultRecord>();

  /** `now`: seconds since the epoch, for the secrets' created time. */
  constructor(private readonly now: () => number) {}

  vault(name: string): VaultRecord {
    let v = this.vaults.get(name);
    if (!v) {
      v = { secrets: new Map(), readers: new Set(), officers: new Set() };
      this.vaults.set(name, v);
    }
    return v;
  }

  setSecret(
    vaultName: string,
    name: string,
    value: string,
    extra: { contentType?: string; tags?: Record<string, string> } = {},
  ): SecretVersion {
    recordSecret(value);
    const versions = this.vault(vaultName).secrets.get(name) ?? [];
    const sv: SecretVersion = {
      version: crypto.randomBytes(16).toString('hex'),
      value,
      tags: extra.tags ?? {},
      created: this.now(),
      ...(extra.contentType !== undefined ? { contentType: extra.contentType } : {}),
    };
    versions.push(sv);
    this.vault(vaultName).secrets.set(name, versions);
    return sv;
  }
}

function secretBundle(
  ctx: SimContext,
  vaultName: string,
  name: string,
  sv: SecretVersion,
  withValue: boolean,
): Record<string, unknown> {
  return {
    ...(withValue ? { value: sv.value } : {}),
    ...(sv.contentType !== undefined ? { contentType: sv.contentType } : {}),
    id: `${ctx.urls.keyVaultUrl(vaultName)}/secrets/${name}/${sv.version}`,
    attributes: {
      enabled: true,
      created: sv.created,
      updated: sv.created,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    },
    tags: sv.tags,
  };
}

export async function handleKeyVault(
  ctx: SimContext,
  vaultName: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  ctx.count('keyvault', res);
  const body = await readBody(req);
  const challenge = {
    'www-authenticate': `Bearer authorization="${ctx.urls.authorityHost}/${ctx.homeTenantId}", resource="${KEY_VAULT_RESOURCE}"`,
  };
  const kvError = (status: number, code: string, message: string, inner?: string): HttpError =>
    new HttpError(
      status,
      { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } },
      status === 401 ? challenge : {},
    );
  const auth = req.headers.authorization;
  if (!auth) throw kvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.');
  if (
    await ctx.applyFault('keyvault', undefined, res, (s) => ({
      error: { code: s === 429 ? 'Throttled' : 'ServiceUnavailable', message: 'Simulated failure.' },
    }))
  ) {
    return;
  }
  const token = auth.replace(/^Bearer\s+/i, '');
  const v = verifyOwnToken(ctx, token);
  if (!v.ok) {
    throw kvError(
      401,
      'Unauthorized',
      v.reason === 'expired'
        ? 'AKV10032: Token expired or not yet valid.'
        : 'AKV10032: Invalid issuer or signature.',
    );
  }
  const aud = String(v.claims.aud).replace(/\/+$/, '');
  if (aud !== KEY_VAULT_RESOURCE) {
    throw kvError(
      401,
      'Unauthorized',
      `AKV10022: Invalid audience. Expected ${KEY_VAULT_RESOURCE}, found: ${aud}.`,
    );
  }
  const oid = String(v.claims.oid);
  const vault = ctx.keyVaults.vault(vaultName);
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const vaultUrl = ctx.urls.keyVaultUrl(vaultName);
  const forbid = (action: string): HttpError =>
    kvError(
      403,
      'Forbidden',
      `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${String(v.claims.appid)};oid=${oid};iss=${String(v.claims.iss)}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/${action}/action'\r\nResource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-relay/providers/microsoft.keyvault/vaults/${vaultName}/secrets/${parts[1] ?? ''}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: ${vaultName};location=eastus\r\n`,
      'ForbiddenByRbac',
    );
  const canRead = vault.readers.has(oid) || vault.officers.has(oid);
  if (parts[0] !== 'secrets') throw kvError(404, 'NotFound', `No route for ${url.pathname}`);
  const name = parts[1];
  if (req.method === 'GET' && name === undefined) {
    if (!canRead) throw forbid('readMetadata');
    const value = [...vault.secrets.entries()].map(([n, vs]) => {
      const b = secretBundle(ctx, vaultName, n, vs.at(-1)!, false);
      return { ...b, id: `${vaultUrl}/secrets/${n}` };
    });
    return sendJson(res, 200, { value, nextLink: null });
  }
  if (name === undefined) throw kvError(405, 'BadRequest', 'Method not allowed.');
  const notFound = (): HttpError =>
    kvError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
    );
  if (req.method === 'PUT' && parts.length === 2) {
    if (!vault.officers.has(oid)) throw forbid('setSecret');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw kvError(400, 'BadParameter', 'The request body is not valid JSON.');
    }
    if (!isRecord(parsed) || typeof parsed.value !== 'string') {
      throw kvError(400, 'BadParameter', 'Property value is required.');
    }
    const sv = ctx.keyVaults.setSecret(vaultName, name, parsed.value, {
      ...(typeof parsed.contentType === 'string' ? { contentType: parsed.contentType } : {}),
      ...(isRecord(parsed.tags) ? { tags: parsed.tags as Record<string, string> } : {}),
    });
    return sendJson(res, 200, secretBundle(ctx, vaultName, name, sv, true));
  }
  if (req.method !== 'GET') throw kvError(405, 'BadRequest', 'Method not allowed.');
  const versions = vault.secrets.get(name);
  if (parts[2] === 'versions' && parts.length === 3) {
    if (!canRead) throw forbid('readMetadata');
    if (!versions) throw notFound();
    const value = versions.map((sv) => secretBundle(ctx, vaultName, name, sv, false));
    return sendJson(res, 200, { value, nextLink: null });
  }
  if (!canRead) throw forbid('getSecret');
  ctx.countKeyVaultRead(name);
  const version = parts[2];
  const sv = version ? versions?.find((x) => x.version === version) : versions?.at(-1);
  if (!sv) throw notFound();
  return sendJson(res, 200, secretBundle(ctx, vaultName, name, sv, true));
}
