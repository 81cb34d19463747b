/** Strict dotted-quad IPv4 (no leading zeros, no CIDR): what we are willing to send bunq. */
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const DOTTED_QUAD = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

export function isDottedQuad(value: unknown): value is string {
  return typeof value === 'string' && DOTTED_QUAD.test(value);
}
