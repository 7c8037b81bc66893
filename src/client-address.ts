// The client's address as Cloudflare saw it, and the networks we group it
// into: a /64 for rate limits (src/rate-limit.ts), a /24 or /48 for the audit
// log (src/audit/). A leaf module.

/**
 * Only cf-connecting-ip counts: the edge sets it and clients cannot;
 * X-Forwarded-For and friends are client-controlled. An IPv4 client seen over
 * IPv6 (::ffff:a.b.c.d) is that IPv4 client. Undefined locally, where there
 * is no edge.
 */
export function clientIp(headers: Headers): string | undefined {
  const ip = headers.get('cf-connecting-ip')?.trim();
  if (!ip) return undefined;
  return ip.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i)?.[1] ?? ip;
}

export function isIpv6(ip: string): boolean {
  return ip.includes(':');
}

/** The eight groups of an IPv6 address, `::` expanded, lower case, without leading zeros. */
export function ipv6Groups(ip: string): string[] {
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return groups.map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''));
}

/** The first `prefixGroups` groups of an IPv6 address as a network: `2001:db8:1::/48`. */
export function ipv6Prefix(ip: string, prefixGroups: number): string {
  return `${ipv6Groups(ip).slice(0, prefixGroups).join(':')}::/${prefixGroups * 16}`;
}
