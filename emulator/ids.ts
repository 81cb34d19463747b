import { randomBytes, randomInt } from 'node:crypto';

/**
 * Where ids, tokens, API keys and uuids come from. With a seed everything is reproducible (same
 * seed, same calls → same values); without one, tokens are cryptographically random and id ranges
 * start at a random offset so a client that hard-codes an id fails fast.
 */
export interface IdSource {
  nextId(kind: IdKind): number;
  hex(bytes: number): string;
  uuid(): string;
}

export type IdKind = 'user' | 'credential' | 'permittedIp' | 'installation' | 'token' | 'device' | 'session';

// Disjoint ranges per kind, so a client that sends a user id where a credential id belongs gets a
// 404 instead of silently hitting another object.
const BASES: Readonly<Record<IdKind, number>> = {
  user: 10_000_000,
  credential: 20_000_000,
  permittedIp: 30_000_000,
  installation: 40_000_000,
  token: 50_000_000,
  device: 60_000_000,
  session: 70_000_000,
};

/** mulberry32: tiny, fast, good enough for test data (not for secrets in production). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createIdSource(seed?: number): IdSource {
  const next = seed === undefined ? undefined : mulberry32(seed);
  const bytes = (n: number): Buffer => {
    if (next === undefined) return randomBytes(n);
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
    return out;
  };
  const counters = new Map<IdKind, number>();
  for (const kind of Object.keys(BASES) as IdKind[]) {
    const offset = next === undefined ? randomInt(0, 1000) * 1000 : 0;
    counters.set(kind, BASES[kind] + offset);
  }
  return {
    nextId(kind) {
      const value = (counters.get(kind) ?? BASES[kind]) + 1;
      counters.set(kind, value);
      return value;
    },
    hex: (n) => bytes(n).toString('hex'),
    uuid() {
      const b = bytes(16);
      b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
      b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  };
}
