/**
 * Which network addresses a webhook may be sent to. A webhook URL is configuration an attacker may try to
 * influence (a rotated Teams URL, a typo, DNS pointing somewhere else), so a delivery never reaches the
 * relay's own neighbourhood: loopback, private (RFC 1918, CGNAT, IPv6 ULA, local-use NAT64), link-local,
 * multicast, reserved, and the cloud instance metadata endpoints. WEBHOOK_ALLOW_PRIVATE_ADDRESSES lifts
 * the block on everything but the metadata endpoints (local development, a receiver on 127.0.0.1).
 *
 * Ranges come from `ipaddr.js` (maintained with the IANA special-purpose registries), not from a list
 * written here. An IPv6 address that carries an IPv4 address (mapped `::ffff:a.b.c.d`, translated
 * `::ffff:0:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is classed by
 * the IPv4 address inside: `::7f00:1` is loopback. Tunnels that hide their endpoint (Teredo) and 6to4 to
 * a public address are refused as reserved. The caller connects to the address it checked (the socket
 * is pinned to it, src/delivery/webhook-http.ts), so DNS cannot change the answer in between.
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';

export type AddressClass =
  'public' | 'metadata' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'reserved';

/** Instance metadata: Azure IMDS, Azure's platform address (wireserver), AWS IMDS over IPv6. */
const METADATA_V4 = new Set(['169.254.169.254', '168.63.129.16']);
const METADATA_V6 = [ipaddr.IPv6.parse('fd00:ec2::254')];

const V4_CLASSES: Partial<Record<string, AddressClass>> = {
  unicast: 'public',
  private: 'private',
  carrierGradeNat: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  unspecified: 'unspecified',
  multicast: 'multicast',
};
const V6_CLASSES: Partial<Record<string, AddressClass>> = {
  unicast: 'public',
  uniqueLocal: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  unspecified: 'unspecified',
  multicast: 'multicast',
};
const SITE_LOCAL = ipaddr.IPv6.parseCIDR('fec0::/10');
const LOCAL_NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b:1::/48');
const WELL_KNOWN_NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

function classifyV4(address: ipaddr.IPv4): AddressClass {
  if (METADATA_V4.has(address.toString())) return 'metadata';
  return V4_CLASSES[address.range()] ?? 'reserved';
}

const v4 = (bytes: number[]) => ipaddr.IPv4.parse(bytes.join('.'));

/** The IPv4 address an IPv6 address carries, and whether a public one is acceptable there. */
function embeddedV4(address: ipaddr.IPv6): { v4: ipaddr.IPv4; publicOk: boolean } | undefined {
  const bytes = address.toByteArray();
  const last = bytes.slice(12, 16);
  const range = address.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145') return { v4: v4(last), publicOk: true };
  if (address.match(WELL_KNOWN_NAT64)) return { v4: v4(last), publicOk: true };
  if (range === '6to4') return { v4: v4(bytes.slice(2, 6)), publicOk: false };
  // IPv4-compatible (deprecated): ::a.b.c.d, but not :: and ::1 themselves.
  if (bytes.slice(0, 12).every((b) => b === 0) && (bytes[12]! | bytes[13]!) !== 0) {
    return { v4: v4(last), publicOk: true };
  }
  return undefined;
}

function classifyV6(address: ipaddr.IPv6): AddressClass {
  if (METADATA_V6.some((m) => m.toNormalizedString() === address.toNormalizedString())) return 'metadata';
  const inner = embeddedV4(address);
  if (inner) {
    const cls = classifyV4(inner.v4);
    return cls === 'public' && !inner.publicOk ? 'reserved' : cls;
  }
  if (address.match(LOCAL_NAT64)) return 'private';
  if (address.match(SITE_LOCAL)) return 'reserved';
  return V6_CLASSES[address.range()] ?? 'reserved';
}

export function classifyAddress(address: string): AddressClass {
  const family = net.isIP(address);
  if (family === 0) return 'reserved';
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv4' ? classifyV4(parsed as ipaddr.IPv4) : classifyV6(parsed as ipaddr.IPv6);
}

/** Why an address may not be used, or undefined when it may. */
export function blockedReason(address: string, allowPrivate: boolean): string | undefined {
  const cls = classifyAddress(address);
  if (cls === 'public') return undefined;
  if (cls === 'metadata') return 'the host resolves to an instance metadata address';
  if (allowPrivate) return undefined;
  return `the host resolves to a ${cls} address (set WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true for local development only)`;
}
