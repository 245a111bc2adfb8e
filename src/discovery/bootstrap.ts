import { isIPv4, isIPv6 } from 'node:net';

/**
 * Static bootstrap addresses ("host:port"), for networks where multicast does not reach (other
 * subnets, containers, cloud VPCs). This module only parses and validates; the runtime dials.
 */

export interface HostPort {
  /** IPv4 address, hostname, or IPv6 address without brackets. */
  readonly host: string;
  readonly port: number;
}

/** Bad bootstrap address text; the message says what was expected. */
export class AddressError extends Error {
  override readonly name = 'AddressError';

  constructor(
    readonly input: string,
    problem: string,
  ) {
    super(`invalid address ${JSON.stringify(input)}: ${problem}`);
  }
}

export type AddressResult =
  | { readonly ok: true; readonly value: HostPort }
  | { readonly ok: false; readonly error: AddressError };

/** RFC 1035 section 2.3.4: at most 253 characters in text form, 63 per label. */
const MAX_HOSTNAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const MAX_PORT = 0xffff;

/**
 * Letters, digits and inner hyphens (RFC 1123 section 2.1). Underscores are accepted too because
 * container runtimes name hosts after services such as "mesh_node_1" and resolve them fine.
 */
const LABEL_PATTERN = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;
const PORT_PATTERN = /^[0-9]{1,5}$/;
const BRACKETED_PATTERN = /^\[([^\]]*)\](?::(.*))?$/;

/** Parses "host:port", "a.b.c.d:port" or "[v6]:port". Never throws. */
export function tryParseAddress(text: string): AddressResult {
  const input = String(text);
  const fail = (problem: string): AddressResult => ({ ok: false, error: new AddressError(input, problem) });
  const trimmed = input.trim();
  if (trimmed === '') return fail('empty; expected host:port');
  if (trimmed.includes('://')) return fail('a URL; expected host:port without a scheme');

  let host: string;
  let portText: string | undefined;
  if (trimmed.startsWith('[')) {
    const match = BRACKETED_PATTERN.exec(trimmed);
    if (!match) return fail('unclosed "[" or text after "]"; expected [IPv6 address]:port');
    host = match[1] as string;
    portText = match[2];
    if (!isIPv6(host)) return fail(`"${host}" is not an IPv6 address`);
  } else {
    const colon = trimmed.lastIndexOf(':');
    if (colon >= 0 && trimmed.indexOf(':') !== colon) {
      return fail('an IPv6 address needs brackets: [address]:port');
    }
    host = colon >= 0 ? trimmed.slice(0, colon) : trimmed;
    portText = colon >= 0 ? trimmed.slice(colon + 1) : undefined;
    const hostProblem = checkHost(host);
    if (hostProblem) return fail(hostProblem);
  }

  if (portText === undefined) return fail('missing port; expected host:port');
  if (!PORT_PATTERN.test(portText)) return fail(`port "${portText}" is not a number from 1 to ${MAX_PORT}`);
  const port = Number(portText);
  if (port < 1 || port > MAX_PORT) return fail(`port ${port} is outside 1..${MAX_PORT}`);
  return { ok: true, value: { host, port } };
}

/**
 * Like tryParseAddress, but throws AddressError: for configuration checked once at start-up, where a
 * typo should stop the program (or the CLI parser) with this message instead of being retried forever.
 */
export function parseAddress(text: string): HostPort {
  const result = tryParseAddress(text);
  if (!result.ok) throw result.error;
  return result.value;
}

/** The inverse of parseAddress: brackets an IPv6 host. */
export function formatAddress(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * The form in which a bootstrap address is kept and dialled: parsed and formatted again, so that
 * what parseAddress forgives (surrounding whitespace, as a CRLF config file leaves; a port's
 * leading zeros) never reaches the dialer, which is strict. Throws AddressError, as parseAddress.
 */
export function normalizeAddress(text: string): string {
  return formatAddress(parseAddress(text));
}

/** Why `host` is neither an IPv4 address nor a hostname, or undefined if it is fine. */
function checkHost(host: string): string | undefined {
  if (host === '') return 'missing host; expected host:port';
  // A name whose last label is numeric would be read as an IPv4 address by resolvers (RFC 1123 2.1).
  // The root's trailing dot is not part of the name, nor of its length.
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  const labels = name.split('.');
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    return isIPv4(host) ? undefined : `"${host}" is not a valid IPv4 address`;
  }
  if (name.length > MAX_HOSTNAME_LENGTH) return `hostname longer than ${MAX_HOSTNAME_LENGTH} characters`;
  for (const label of labels) {
    if (label.length === 0) return `"${host}" has an empty label`;
    if (label.length > MAX_LABEL_LENGTH) return `hostname label longer than ${MAX_LABEL_LENGTH} characters`;
    if (!LABEL_PATTERN.test(label)) return `"${host}" is not a valid hostname`;
  }
  return undefined;
}
