import { clientIp, ipv6Prefix, isIpv6 } from '../client-address';
import type { RequestFacts } from './events';

// What the audit log keeps about a request's client: enough for a person to
// recognise "that was me, at home, on my laptop" or to see that a burst came
// from one network, and no more. A full address identifies a household (and
// is personal data in most places); a /24 or /48 is shared by many, and a
// browser and system family by millions.

/** The client's network: an IPv4 /24 (`203.0.113.0/24`) or an IPv6 /48 (`2001:db8:1::/48`); null without one. */
export function auditNetwork(headers: Headers): string | null {
  const ip = clientIp(headers);
  if (!ip) return null;
  if (isIpv6(ip)) return /^[0-9a-f:]{2,39}$/i.test(ip) ? ipv6Prefix(ip, 3) : null;
  const octets = ip.split('.');
  if (octets.length !== 4 || !octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255)) return null;
  return `${octets.slice(0, 3).map(Number).join('.')}.0/24`;
}

// First match wins: Edge and Opera also say Chrome, Chrome also says Safari.
const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\b(OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\b(Chrome|CriOS|Chromium|HeadlessChrome)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/^curl\//, 'curl'],
  [/^okhttp\//, 'OkHttp'],
  [/^python-requests\/|^Python-urllib\//, 'Python'],
  [/^node-fetch|^undici|^node\b/i, 'Node.js'],
  [/^Go-http-client\//, 'Go'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/\b(iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/** "Firefox on Linux", "Safari on iOS", "curl", "Other": a family, never the header itself. */
export function userAgentFamily(header: string | null): string | null {
  if (!header?.trim()) return null;
  const browser = BROWSERS.find(([pattern]) => pattern.test(header))?.[1] ?? 'Other';
  const system = SYSTEMS.find(([pattern]) => pattern.test(header))?.[1];
  return system ? `${browser} on ${system}` : browser;
}

export function requestFacts(request: Request, requestId: string): RequestFacts {
  return {
    network: auditNetwork(request.headers),
    userAgent: userAgentFamily(request.headers.get('user-agent')),
    requestId,
  };
}
