/** "host:port" strings, the transport's form of PeerInfo.address. */

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const IPV4_MAPPED_PREFIX = '::ffff:';
const IPV4_PATTERN = /^\d{1,3}(\.\d{1,3}){3}$/;
const MAX_PORT = 0xffff;

/** A dual-stack socket reports IPv4 peers as "::ffff:a.b.c.d"; peers know each other by the IPv4 form. */
export function normalizeHost(host: string): string {
  if (host.startsWith(IPV4_MAPPED_PREFIX)) {
    const ipv4 = host.slice(IPV4_MAPPED_PREFIX.length);
    if (IPV4_PATTERN.test(ipv4)) return ipv4;
  }
  return host;
}

/** IPv6 hosts are bracketed ("[::1]:4000") so that the port stays unambiguous. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses "host:port", "[v6]:port" or "v6:port" (port after the last colon); undefined if malformed. */
export function parseAddress(address: string): HostPort | undefined {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const portText = address.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port === 0 || port > MAX_PORT) return undefined;
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.length === 0 || /[[\]\s]/.test(host)) return undefined;
  return { host, port };
}
