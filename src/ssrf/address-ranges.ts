/**
 * Which IP addresses a webhook may reach: the SSRF guard's range logic, pure
 * (no I/O). Everything that is not globally routable unicast is refused —
 * loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT,
 * multicast, reserved, documentation, IPv6 unique-local — and so are the IPv6
 * spellings that carry an IPv4 address (IPv4-mapped, IPv4-translated,
 * NAT64): those are judged by the IPv4 address inside. An allow-list of CIDRs
 * (`HERALD_ALLOW_PRIVATE_NETWORKS`) lets chosen ranges through.
 */
import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

export interface RefusedRange {
  cidr: string;
  /** What the range is, for the refusal message. */
  label: string;
}

/** IPv4 ranges no webhook may reach (IANA special-purpose registry, not globally reachable). */
export const REFUSED_IPV4: readonly RefusedRange[] = [
  { cidr: '0.0.0.0/8', label: '"this network" (0.0.0.0/8)' },
  { cidr: '10.0.0.0/8', label: 'private network' },
  { cidr: '100.64.0.0/10', label: 'carrier-grade NAT (shared address space)' },
  { cidr: '127.0.0.0/8', label: 'loopback' },
  { cidr: '169.254.0.0/16', label: 'link-local (cloud metadata services live here)' },
  { cidr: '172.16.0.0/12', label: 'private network' },
  { cidr: '192.0.0.0/24', label: 'IETF protocol assignments' },
  { cidr: '192.0.2.0/24', label: 'documentation (TEST-NET-1)' },
  { cidr: '192.88.99.0/24', label: '6to4 relay anycast (deprecated)' },
  { cidr: '192.168.0.0/16', label: 'private network' },
  { cidr: '198.18.0.0/15', label: 'benchmarking' },
  { cidr: '198.51.100.0/24', label: 'documentation (TEST-NET-2)' },
  { cidr: '203.0.113.0/24', label: 'documentation (TEST-NET-3)' },
  { cidr: '224.0.0.0/4', label: 'multicast' },
  { cidr: '255.255.255.255/32', label: 'broadcast' },
  { cidr: '240.0.0.0/4', label: 'reserved' },
];

/**
 * IPv6 ranges no webhook may reach. The forms that embed an IPv4 address and
 * reach it (IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, NAT64
 * 64:ff9b::/96) are not listed: they are judged by that address.
 */
export const REFUSED_IPV6: readonly RefusedRange[] = [
  { cidr: '::/128', label: 'unspecified' },
  { cidr: '::1/128', label: 'loopback' },
  { cidr: '::/96', label: 'IPv4-compatible (deprecated)' },
  { cidr: '64:ff9b:1::/48', label: 'local-use NAT64' },
  { cidr: '100::/64', label: 'discard-only' },
  { cidr: '2001::/32', label: 'Teredo (embeds an IPv4 address)' },
  { cidr: '2001:db8::/32', label: 'documentation' },
  { cidr: '2001::/23', label: 'IETF protocol assignments' },
  { cidr: '2002::/16', label: '6to4 (embeds an IPv4 address)' },
  { cidr: '3fff::/20', label: 'documentation' },
  { cidr: '5f00::/16', label: 'segment routing (SRv6)' },
  { cidr: 'fc00::/7', label: 'unique-local (private network)' },
  { cidr: 'fe80::/10', label: 'link-local' },
  { cidr: 'fec0::/10', label: 'site-local (deprecated)' },
  { cidr: 'ff00::/8', label: 'multicast' },
];

/** Only 2000::/3 holds globally routable IPv6 unicast; everything outside it is refused. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** IPv6 forms that carry an IPv4 address and reach it. */
const EMBEDDING_V6: readonly { range: [ipaddr.IPv6, number]; label: string }[] = [
  { range: ipaddr.IPv6.parseCIDR('::ffff:0:0/96'), label: 'IPv4-mapped' },
  { range: ipaddr.IPv6.parseCIDR('::ffff:0:0:0/96'), label: 'IPv4-translated' },
  { range: ipaddr.IPv6.parseCIDR('64:ff9b::/96'), label: 'NAT64' },
];

interface CompiledRange {
  range: [IpAddress, number];
  cidr: string;
  label: string;
}

const compile = (list: readonly RefusedRange[]): CompiledRange[] =>
  list.map((r) => ({ range: ipaddr.parseCIDR(r.cidr), cidr: r.cidr, label: r.label }));
const V4 = compile(REFUSED_IPV4);
const V6 = compile(REFUSED_IPV6);

/**
 * `why` completes a sentence whose subject is the address ("is in 10.0.0.0/8,
 * private network"); `reason` is that sentence.
 */
export type AddressVerdict =
  | { allowed: true; address: string }
  | { allowed: false; address: string; range: string; why: string; reason: string };

/**
 * Parses an IP address as a URL host or a resolver may spell it: dotted
 * IPv4, the inet_aton spellings (`0x7f.1`, `0177.0.0.1`, `2130706433`, `127.1`),
 * IPv6 with or without brackets. Null when `host` is a name, not an address.
 */
export function parseAddress(host: string): IpAddress | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  // ipaddr's IPv4 parser takes every inet_aton form (hex, octal, 1–4 parts), as getaddrinfo would.
  if (/^[0-9a-fA-FxX.]+$/.test(bare) && ipaddr.IPv4.isValid(bare)) return ipaddr.IPv4.parse(bare);
  return null;
}

/** The IPv4 address an IPv6 address reaches, when it is one of the embedding forms. */
function embeddedIpv4(address: ipaddr.IPv6): { ipv4: ipaddr.IPv4; label: string } | null {
  for (const form of EMBEDDING_V6) {
    if (address.match(form.range)) {
      const bytes = address.toByteArray().slice(12);
      return { ipv4: new ipaddr.IPv4(bytes), label: form.label };
    }
  }
  return null;
}

function inAny(address: IpAddress, ranges: readonly [IpAddress, number][]): boolean {
  return ranges.some((range) => address.kind() === range[0].kind() && address.match(range));
}

/**
 * The address policy: `allow` is the operator's allow-list of CIDRs (already
 * validated by the config). An allowed range wins over a refused one.
 */
export class AddressPolicy {
  readonly #allow: [IpAddress, number][];
  readonly allowList: readonly string[];

  constructor(allow: readonly string[] = []) {
    this.allowList = [...allow];
    this.#allow = allow.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  check(address: IpAddress): AddressVerdict {
    const shown = address.toString();
    if (inAny(address, this.#allow)) return { allowed: true, address: shown };
    if (address.kind() === 'ipv6') {
      const v6 = address as ipaddr.IPv6;
      const inner = embeddedIpv4(v6);
      if (inner) {
        const verdict = this.check(inner.ipv4);
        if (verdict.allowed) return { allowed: true, address: shown };
        const why = `is the ${inner.label} IPv6 form of ${verdict.address}, which ${verdict.why}`;
        return { allowed: false, address: shown, range: verdict.range, why, reason: `${shown} ${why}` };
      }
      const refused = V6.find((r) => v6.match(r.range as [ipaddr.IPv6, number]));
      if (refused) return refuse(shown, refused);
      if (!v6.match(GLOBAL_UNICAST_V6)) {
        const why = 'is not global unicast IPv6 (outside 2000::/3)';
        return { allowed: false, address: shown, range: '2000::/3', why, reason: `${shown} ${why}` };
      }
      return { allowed: true, address: shown };
    }
    const v4 = address as ipaddr.IPv4;
    const refused = V4.find((r) => v4.match(r.range as [ipaddr.IPv4, number]));
    return refused ? refuse(shown, refused) : { allowed: true, address: shown };
  }
}

function refuse(shown: string, range: CompiledRange): AddressVerdict {
  const why = `is in ${range.cidr}, ${range.label}`;
  return { allowed: false, address: shown, range: range.cidr, why, reason: `${shown} ${why}` };
}
