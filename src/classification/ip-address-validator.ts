import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses as Node's own parser reads them: IPv4 dotted quads with octets 0-255 and no leading
 * zeros (`010.1.1.1` is octal to some parsers and decimal to others, so it is refused), and IPv6 in
 * full, compressed (`::`) and IPv4-mapped (`::ffff:192.0.2.1`) forms, optionally with a zone id.
 * @see https://www.rfc-editor.org/rfc/rfc4291#section-2.2
 */
export type IpVersion = 4 | 6;

export function ipVersion(value: string): IpVersion | null {
  const text = value.trim();
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  return null;
}

export function isValidIpAddress(value: string): boolean {
  return ipVersion(value) !== null;
}

/**
 * True for dotted quads whose first three parts are all ≤ 31, e.g. `2.1.0.4`: a four-part version
 * number looks exactly like that, so on its own such a value says little about IP addresses.
 */
export function looksLikeVersionNumber(value: string): boolean {
  const text = value.trim();
  if (!isIPv4(text)) return false;
  return text
    .split('.')
    .slice(0, 3)
    .every((part) => Number(part) <= 31);
}
