/**
 * Which network addresses a webhook may be sent to. A webhook URL is configuration an attacker may try to
 * influence (a rotated Teams URL, a typo, DNS pointing somewhere else), so a delivery never reaches the
 * relay's own neighbourhood: loopback, private (RFC 1918, CGNAT, IPv6 ULA), link-local, multicast,
 * reserved, and the cloud instance metadata endpoints. WEBHOOK_ALLOW_PRIVATE_ADDRESSES lifts the block on
 * everything but the metadata endpoints (local development, a receiver on 127.0.0.1).
 */
import net from 'node:net';

export type AddressClass =
  'public' | 'metadata' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'reserved';

const V4: [string, number, AddressClass][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6: [string, number, AddressClass][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'reserved'],
  ['2001:db8::', 32, 'reserved'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'reserved'],
  ['ff00::', 8, 'multicast'],
];
/** Instance metadata: Azure IMDS, Azure's platform address (wireserver), AWS IMDS over IPv6. */
const METADATA = new Set(['169.254.169.254', '168.63.129.16', 'fd00:ec2::254']);

const lists = new Map<AddressClass, net.BlockList>();
for (const [address, prefix, cls] of V4) {
  const list = lists.get(cls) ?? new net.BlockList();
  list.addSubnet(address, prefix, 'ipv4');
  lists.set(cls, list);
}
for (const [address, prefix, cls] of V6) {
  const list = lists.get(cls) ?? new net.BlockList();
  list.addSubnet(address, prefix, 'ipv6');
  lists.set(cls, list);
}

/** The IPv4 address inside an IPv4-mapped, -compatible or NAT64 IPv6 address, if there is one. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

export function classifyAddress(address: string): AddressClass {
  const family = net.isIP(address);
  if (family === 0) return 'reserved';
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) return classifyAddress(v4);
  }
  const normalized = family === 6 ? address.toLowerCase() : address;
  if (METADATA.has(normalized)) return 'metadata';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [cls, list] of lists) if (list.check(normalized, type)) return cls;
  return 'public';
}

/** Why an address may not be used, or undefined when it may. */
export function blockedReason(address: string, allowPrivate: boolean): string | undefined {
  const cls = classifyAddress(address);
  if (cls === 'public') return undefined;
  if (cls === 'metadata') return 'the host resolves to an instance metadata address';
  if (allowPrivate) return undefined;
  return `the host resolves to a ${cls} address (set WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true for local development only)`;
}
