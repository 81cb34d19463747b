import { describe, expect, inject, it } from 'vitest';

describe('test harness', () => {
  it('provides a reachable moto endpoint', async () => {
    const endpoint = inject('motoEndpoint');
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${endpoint}/moto-api/`);
    expect(res.status).toBeLessThan(500);
  });
});
