import { describe, expect, it } from 'vitest';
import { compareIpv4, describeValue, isCanonicalIpv4, validateIpv4 } from '../../lambdas/shared/validate-ip';

describe('validateIpv4 accepts canonical dotted quads', () => {
  it.each([
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['203.0.113.7', '203.0.113.7'],
    ['10.0.0.10', '10.0.0.10'],
    ['  198.51.100.1\t\n', '198.51.100.1'],
  ])('%j → %s', (input, expected) => {
    expect(validateIpv4(input)).toEqual({ ok: true, ip: expected });
  });
});

describe('validateIpv4 rejects each malformed form with its own reason', () => {
  it.each([
    ['empty string', '', 'empty', /empty/],
    ['white space only', '   ', 'empty', /empty/],
    ['undefined', undefined, 'empty', /no IP address/],
    ['null', null, 'empty', /no IP address/],
    ['a number', 3232235777, 'wrong-type', /string, got number/],
    ['an array', ['1.2.3.4'], 'wrong-type', /got array/],
    ['an object', { ip: '1.2.3.4' }, 'wrong-type', /got object/],
    ['a boolean', true, 'wrong-type', /got boolean/],
    ['wildcard', '*', 'wildcard', /bunq app/],
    ['wildcard padded', ' * ', 'wildcard', /bunq app/],
    ['CIDR /24', '10.0.0.0/24', 'cidr', /CIDR/],
    ['CIDR /32', '10.0.0.1/32', 'cidr', /not even \/32/],
    ['IPv6', '2001:db8::1', 'ipv6', /IPv6/],
    ['IPv6 loopback', '::1', 'ipv6', /IPv6/],
    ['IPv4-mapped IPv6', '::ffff:192.0.2.1', 'ipv4-mapped-ipv6', /mapped/],
    ['IPv4-mapped IPv6 upper case', '::FFFF:192.0.2.1', 'ipv4-mapped-ipv6', /mapped/],
    ['three octets', '10.0.1', 'octet-count', /found 3/],
    ['five octets', '10.0.0.1.5', 'octet-count', /found 5/],
    ['integer form', '3232235777', 'octet-count', /found 1/],
    ['out of range 256', '10.0.0.256', 'octet-out-of-range', /octet 4 256/],
    ['out of range 999', '999.1.1.1', 'octet-out-of-range', /octet 1/],
    ['leading zero 08', '10.08.0.1', 'leading-zero', /octet 2 "08" has a leading zero/],
    ['leading zero 00', '10.0.00.1', 'leading-zero', /leading zero/],
    ['leading zero 001', '10.0.0.001', 'leading-zero', /leading zero/],
    ['octal 010', '10.010.0.1', 'octal-form', /read it as 8, others as 10/],
    ['octal 0300', '0300.0.0.1', 'octal-form', /192/],
    ['embedded space', '10.0. 0.1', 'embedded-whitespace', /white space/],
    ['embedded tab', '10.0.0.\t1', 'embedded-whitespace', /white space/],
    ['hex octet', '0x0A.0.0.1', 'hex-form', /hexadecimal/],
    ['hex integer', '0xC0A80001', 'hex-form', /hexadecimal/],
    ['trailing dot', '10.0.0.1.', 'trailing-dot', /ends with a dot/],
    ['trailing dot on three', '10.0.0.', 'trailing-dot', /ends with a dot/],
    ['leading dot', '.10.0.0', 'empty-octet', /octet 1 is empty/],
    ['double dot', '10..0.1', 'empty-octet', /octet 2 is empty/],
    ['letters', '10.0.0.a', 'invalid-character', /not a decimal/],
    ['sign', '10.0.0.+1', 'invalid-character', /not a decimal/],
    ['negative', '10.0.-1.1', 'invalid-character', /not a decimal/],
    ['hostname', 'example.com', 'octet-count', /found 2/],
    ['full-width digits', '１.2.3.4', 'invalid-character', /not a decimal/],
  ])('%s (%j)', (_name, input, code, reason) => {
    const result = validateIpv4(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe(code);
    expect(result.reason).toMatch(reason);
  });
});

describe('helpers', () => {
  it('isCanonicalIpv4 refuses untrimmed text, which bunq itself never returns', () => {
    expect(isCanonicalIpv4('1.2.3.4')).toBe(true);
    expect(isCanonicalIpv4(' 1.2.3.4')).toBe(false);
    expect(isCanonicalIpv4('*')).toBe(false);
  });

  it('compareIpv4 orders numerically', () => {
    expect(['10.0.0.10', '10.0.0.2', '9.255.255.255'].sort(compareIpv4)).toEqual(['9.255.255.255', '10.0.0.2', '10.0.0.10']);
  });

  it('describeValue shortens long input and survives odd values', () => {
    expect(describeValue('x'.repeat(200)).length).toBeLessThanOrEqual(65);
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(10n)).toBe('10n');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object]');
  });
});
