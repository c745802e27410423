/**
 * Small building blocks of the simulator: a seeded random source, 100-ns timestamps as Defender prints
 * them, RS256 JWTs with node:crypto, and HTTP helpers.
 */
import * as crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

// ---------------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32): the same seed gives the same tenants, incidents and ids.

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += Math.floor(this.next() * 16).toString(16);
    return s;
  }
  guid(): string {
    const h = this.hex(32);
    const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Timestamps: 100-ns ticks since the Unix epoch as a BigInt, printed with up to seven fractional digits,
// trailing zeros trimmed (`2020-09-06T14:46:57.0733333Z`, `…57.29Z`, `…57Z`), as Defender does.

export const TICKS_PER_MS = 10_000n;

export function ticksFromMs(ms: number): bigint {
  return BigInt(Math.floor(ms)) * TICKS_PER_MS;
}

export function msFromTicks(ticks: bigint): number {
  return Number(ticks / TICKS_PER_MS);
}

export function formatTicks(ticks: bigint): string {
  const seconds = ticks / 10_000_000n;
  const fraction = ticks % 10_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (fraction === 0n) return `${base}Z`;
  const digits = fraction.toString().padStart(7, '0').replace(/0+$/, '');
  return `${base}.${digits}Z`;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7})\d*)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses an ISO 8601 date-time at 100-ns precision; undefined when it is not one. */
export function parseTicks(text: string): bigint | undefined {
  const m = ISO_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0));
  if (Number.isNaN(ms)) return undefined;
  let ticks = BigInt(ms) * TICKS_PER_MS + BigInt((frac ?? '').padEnd(7, '0') || '0');
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
    ticks -= sign * offsetMinutes * 60n * 10_000_000n;
  }
  return ticks;
}

// ---------------------------------------------------------------------------------------------------
// JWT (RS256) with node:crypto.

export interface SigningKey {
  kid: string;
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
  jwk: crypto.JsonWebKey & { kid: string; use: string; alg: string };
}

export function makeSigningKey(): SigningKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const raw = publicKey.export({ format: 'jwk' });
  const kid = crypto
    .createHash('sha256')
    .update(JSON.stringify({ e: raw.e, kty: raw.kty, n: raw.n }))
    .digest('base64url')
    .slice(0, 27);
  return { kid, privateKey, publicKey, jwk: { ...raw, kid, use: 'sig', alg: 'RS256' } };
}

export type JwtClaims = Record<string, unknown>;

export function signJwt(key: SigningKey, claims: JwtClaims, header: Record<string, unknown> = {}): string {
  const h = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: key.kid, ...header })).toString(
    'base64url',
  );
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = crypto.sign('RSA-SHA256', Buffer.from(`${h}.${p}`), key.privateKey).toString('base64url');
  // A token's signature is what makes it a credential: enough to recognise it, whole or cut, in a log.
  recordSecret(sig);
  return `${h}.${p}.${sig}`;
}

const issuedSecrets = new Set<string>();

/**
 * Every credential this simulator process has made: client secrets, Key Vault secret values, the
 * managed-identity header, and the signature of every token it signed. The test suite searches the logs
 * it captured for these (test/helpers/log-secrecy.ts).
 */
export function recordSecret(value: string | undefined): void {
  if (value && value.length >= 12) issuedSecrets.add(value);
}

export function simulatorSecrets(): ReadonlySet<string> {
  return issuedSecrets;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown;
    if (!isRecord(header) || !isRecord(claims)) return undefined;
    return { header, claims, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
  } catch {
    return undefined;
  }
}

export function verifyRs256(decoded: DecodedJwt, publicKey: crypto.KeyObject): boolean {
  if (decoded.header.alg !== 'RS256') return false;
  return crypto.verify('RSA-SHA256', Buffer.from(decoded.signingInput), publicKey, decoded.signature);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------
// HTTP helpers.

export async function readBody(req: IncomingMessage, limit = 10 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendRaw(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
