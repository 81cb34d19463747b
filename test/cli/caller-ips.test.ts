import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseCallerIps } from '../../lambdas/core';
import { egressIpsFrom } from '../../lambdas/aws/env';
import { CALLER_IPS_ENV, CHECKIP_URL_ENV, describeCallerIps, resolveCallerIps } from '../../cli/caller-ips';
import { CliError, ExitCode } from '../../cli/errors';

/** Caller-IP resolution against a local checkip played by node:http (no internet in tests). */

let server: Server;
let base: string;
let reply = '198.51.100.23\n';
let status = 200;
const hanging: Array<() => void> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/hang') {
      hanging.push(() => res.end('198.51.100.99'));
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(reply);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const release of hanging) release();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function usageErrorOf(promise: Promise<unknown>): Promise<CliError> {
  return promise.then(
    () => {
      throw new Error('expected a usage error');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(ExitCode.Usage);
      return err as CliError;
    },
  );
}

describe('resolveCallerIps', () => {
  it('--caller-ip wins over the environment and detection, deduplicated and validated', async () => {
    const env = { [CALLER_IPS_ENV]: '203.0.113.1', [CHECKIP_URL_ENV]: base };
    expect(await resolveCallerIps({ flags: ['203.0.113.7', ' 203.0.113.8', '203.0.113.7'], env })).toEqual({
      ips: ['203.0.113.7', '203.0.113.8'],
      source: 'flag',
      detail: '--caller-ip',
    });
    const bad = await usageErrorOf(resolveCallerIps({ flags: ['203.0.113.300'], env }));
    expect(bad.message).toMatch(/--caller-ip "203\.0\.113\.300": octet 4 300 is out of range/);
    await usageErrorOf(resolveCallerIps({ flags: ['*'], env }));
  });

  it('BUNQ_IP_CALLER_IPS (comma separated) wins over detection; a typo there is an error, not "unknown"', async () => {
    const env = { [CALLER_IPS_ENV]: '203.0.113.1, 203.0.113.2', [CHECKIP_URL_ENV]: base };
    expect(await resolveCallerIps({ flags: [], env })).toEqual({ ips: ['203.0.113.1', '203.0.113.2'], source: 'env', detail: CALLER_IPS_ENV });
    const bad = await usageErrorOf(resolveCallerIps({ flags: [], env: { [CALLER_IPS_ENV]: '203.0.113.1,,' } }));
    expect(bad.message).toMatch(/BUNQ_IP_CALLER_IPS "": the IP address is empty/);
  });

  it('asks the checkip endpoint, and says where the answer came from', async () => {
    reply = '198.51.100.23\n';
    status = 200;
    const found = await resolveCallerIps({ flags: [], env: { [CHECKIP_URL_ENV]: base } });
    expect(found).toEqual({ ips: ['198.51.100.23'], source: 'detected', detail: base.replace('http://', '') });
    expect(describeCallerIps(found)).toBe(`198.51.100.23 (detected: ${base.replace('http://', '')})`);
  });

  it('an unreachable, slow, failing or nonsensical checkip is not fatal: the caller is unknown', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = await resolveCallerIps({ flags: [], env: { [CHECKIP_URL_ENV]: `http://127.0.0.1:${deadPort}` } });
    expect(unreachable).toMatchObject({ ips: [], source: 'unknown', detail: expect.stringMatching(/ECONNREFUSED|fetch failed/) });

    const slow = await resolveCallerIps({ flags: [], env: { [CHECKIP_URL_ENV]: `${base}/hang` }, timeoutMs: 50 });
    expect(slow).toMatchObject({ ips: [], source: 'unknown', detail: expect.stringMatching(/timed out after 50 ms/) });

    status = 503;
    const failing = await resolveCallerIps({ flags: [], env: { [CHECKIP_URL_ENV]: base } });
    expect(failing).toMatchObject({ ips: [], source: 'unknown', detail: expect.stringMatching(/HTTP 503/) });

    status = 200;
    reply = '<html>captive portal</html>';
    const nonsense = await resolveCallerIps({ flags: [], env: { [CHECKIP_URL_ENV]: base } });
    expect(nonsense).toMatchObject({ ips: [], source: 'unknown', detail: expect.stringMatching(/not an IPv4 address/) });
    expect(describeCallerIps(nonsense)).toMatch(/^cannot tell which IP this run calls bunq from/);

    expect(await resolveCallerIps({ flags: [], env: { [CHECKIP_URL_ENV]: 'off' } })).toMatchObject({ ips: [], source: 'unknown' });
    await usageErrorOf(resolveCallerIps({ flags: [], env: { [CHECKIP_URL_ENV]: 'file:///etc/hosts' } }));
  });

  it('bunq on this machine (the emulator) sees loopback, without asking checkip', async () => {
    const asked: string[] = [];
    const found = await resolveCallerIps({
      flags: [],
      env: {},
      bunqBaseUrl: 'http://127.0.0.1:4567',
      fetchText: (url) => {
        asked.push(url);
        return Promise.resolve('198.51.100.1');
      },
    });
    expect(found).toMatchObject({ ips: ['127.0.0.1'], source: 'detected' });
    expect(asked).toEqual([]);
    // Any other bunq goes to the default endpoint.
    await resolveCallerIps({ flags: [], env: {}, bunqBaseUrl: 'https://api.bunq.com', fetchText: (url) => (asked.push(url), Promise.resolve('198.51.100.1')) });
    expect(asked).toEqual(['https://checkip.amazonaws.com']);
  });
});

describe('one rule for a list of IPv4s (CLI caller IPs, the worker\'s EGRESS_IPS, the core\'s caller IPs)', () => {
  it('all valid or none, in the same canonical order everywhere', async () => {
    const lists = [['203.0.113.9', '203.0.113.1', '203.0.113.9'], ['203.0.113.1', '203.0.113.300'], ['*'], ['203.0.113.01'], [' 203.0.113.5 ']];
    for (const list of lists) {
      const core = normaliseCallerIps(list);
      const egress = egressIpsFrom({ EGRESS_IPS: list.join(',') });
      const cli = await resolveCallerIps({ flags: [], env: { [CALLER_IPS_ENV]: list.join(',') } }).then((c) => c.ips, () => null);
      const coreOk = core.warnings.length === 0;
      expect(egress.problem === undefined).toBe(coreOk);
      expect(cli !== null).toBe(coreOk);
      if (coreOk) {
        expect(egress.ips).toEqual(core.ips);
        expect(cli).toEqual(core.ips);
      } else {
        expect([core.ips, egress.ips]).toEqual([[], []]);
      }
    }
  });
});
