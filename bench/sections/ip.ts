/** 10.a.b.c for i = 1, 2, … (up to 2^24 − 1): distinct valid IPv4 addresses, never our own loopback. */
export function ipAt(i: number): string {
  if (!Number.isInteger(i) || i < 1 || i >= 2 ** 24) throw new Error(`ipAt: index out of range: ${i}`);
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}
