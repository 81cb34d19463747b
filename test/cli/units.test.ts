import { describe, expect, it } from 'vitest';
import { BunqError } from '../../lambdas/bunq/errors';
import { renderPlan, type Plan } from '../../lambdas/core';
import { parseCommandLine, refuseSecretFlags } from '../../cli/args';
import { desiredAdd } from '../../cli/commands/desired';
import { ExitCode } from '../../cli/errors';
import { expiresAtFrom, parseDuration } from '../../cli/expiry';
import { desiredView } from '../../cli/format/desired';
import { parseImportFile } from '../../cli/import-file';
import type { CliIo } from '../../cli/io';
import { describeError, main } from '../../cli/main';
import { colourEnabled, colourPlanText, createStyle } from '../../cli/style';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW_S = NOW / 1000;

function recordingIo(options: { tty: boolean; env?: Record<string, string> }): CliIo & { outText: string[]; errText: string[] } {
  const outText: string[] = [];
  const errText: string[] = [];
  return {
    outText,
    errText,
    out: (t) => outText.push(t),
    err: (t) => errText.push(t),
    readStdin: () => Promise.resolve(''),
    prompt: () => Promise.reject(new Error('no terminal in this test')),
    stdinIsTTY: false,
    stdoutIsTTY: options.tty,
    env: options.env ?? {},
  };
}

describe('expiry', () => {
  it('turns --for and --until into epoch seconds', () => {
    expect(parseDuration('8h')).toBe(8 * 3600);
    expect(parseDuration('1d12h30m')).toBe(86_400 + 12 * 3600 + 1800);
    expect(expiresAtFrom({ for: '90m' }, NOW)).toBe(NOW_S + 5400);
    expect(expiresAtFrom({ until: '2026-01-02T00:00Z' }, NOW)).toBe(Date.UTC(2026, 0, 2) / 1000);
    expect(expiresAtFrom({ until: '2026-01-01T14:00+01:00' }, NOW)).toBe(NOW_S + 3600);
    expect(expiresAtFrom({}, NOW)).toBeUndefined();
  });

  it('refuses what it cannot read unambiguously', () => {
    expect(() => parseDuration('8')).toThrow(/not a duration/);
    expect(() => parseDuration('-1h')).toThrow(/not a duration/);
    expect(() => expiresAtFrom({ for: '0h' }, NOW)).toThrow(/longer than zero/);
    expect(() => expiresAtFrom({ until: '2026-01-01T18:00' }, NOW)).toThrow(/with a zone/);
    expect(() => expiresAtFrom({ until: '2025-12-31T00:00Z' }, NOW)).toThrow(/in the past/);
    expect(() => expiresAtFrom({ for: '400d' }, NOW)).toThrow(/366 days/);
    expect(() => expiresAtFrom({ for: '1h', until: '2027-01-01' }, NOW)).toThrow(/not both/);
  });
});

describe('colour', () => {
  it('only on a terminal, never with NO_COLOR or TERM=dumb', () => {
    expect(colourEnabled(true, {})).toBe(true);
    expect(colourEnabled(false, {})).toBe(false);
    expect(colourEnabled(undefined, {})).toBe(false);
    expect(colourEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(true, { NO_COLOR: '' })).toBe(true);
    expect(colourEnabled(true, { TERM: 'dumb' })).toBe(false);
  });

  it('colours plan lines by their marker and leaves plain text alone without colour', () => {
    const plan: Plan = {
      credential: 'prod', mode: 'enforce', desiredIps: ['203.0.113.1'], invalid: [], expired: [],
      drift: [{ kind: 'missing', ip: '203.0.113.1' }, { kind: 'undesired-active', ip: '198.51.100.1', entryId: 4 }],
      operations: [{ kind: 'add', ip: '203.0.113.1' }, { kind: 'deactivate', ip: '198.51.100.1', entryId: 4, reason: 'undesired' }],
      blocked: [], warnings: [],
    };
    const text = renderPlan(plan);
    expect(colourPlanText(text, createStyle(false))).toBe(text);
    const coloured = colourPlanText(text, createStyle(true));
    expect(coloured).toMatch(/\u001b\[32m {2}\+ 203\.0\.113\.1/);
    expect(coloured).toMatch(/\u001b\[31m {2}- 198\.51\.100\.1/);
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(text);
  });

  it('main prints a coloured error on a terminal and a plain one otherwise', async () => {
    const tty = recordingIo({ tty: true });
    expect(await main(['desired', 'add', 'prod', '1.2.3'], tty)).toBe(ExitCode.Usage);
    expect(tty.errText.join('\n')).toMatch(/^\u001b\[31merror:\u001b\[39m refused "1\.2\.3": expected 4 dot-separated octets/);
    const noColor = recordingIo({ tty: true, env: { NO_COLOR: '1' } });
    await main(['desired', 'add', 'prod', '1.2.3'], noColor);
    expect(noColor.errText.join('\n')).not.toMatch(/\u001b/);
  });
});

describe('import files', () => {
  it('reads text and JSON, notes and durations', () => {
    expect(parseImportFile('# comment\n203.0.113.1 office north\n\n 203.0.113.2\n', NOW)).toEqual([
      { ip: '203.0.113.1', note: 'office north' },
      { ip: '203.0.113.2' },
    ]);
    expect(parseImportFile(JSON.stringify(['203.0.113.1', { ip: '203.0.113.2', note: 'x', for: '1h' }]), NOW)).toEqual([
      { ip: '203.0.113.1' },
      { ip: '203.0.113.2', note: 'x', expiresAt: NOW_S + 3600 },
    ]);
  });

  it('refuses the whole file for any bad line and names every problem', () => {
    expect(() => parseImportFile('203.0.113.1\n203.0.113.1\n*\n10.0.0.1/32', NOW)).toThrow(
      /nothing written: line 2: 203\.0\.113\.1 is listed twice \(also line 1\); line 3: "\*": .*line 4: "10\.0\.0\.1\/32": CIDR/,
    );
    expect(() => parseImportFile('{"ip": "1.2.3.4"}', NOW)).toThrow(/must be an array/);
    expect(() => parseImportFile('[1.2.3.4]', NOW)).toThrow(/does not parse/);
    expect(() => parseImportFile('# only comments\n', NOW)).toThrow(/lists no IP addresses/);
    expect(() => parseImportFile('[{"ip":"1.2.3.4","for":"soon"}]', NOW)).toThrow(/item 1: --for "soon"/);
  });

  it('refuses JSON entries whose expiry it would otherwise drop (the entry would become permanent)', () => {
    const file = JSON.stringify([
      { ip: '203.0.113.1', for: '1h' },
      { ip: '203.0.113.2', for: 8 },
      { ip: '203.0.113.3', until: 1767268800 },
      { ip: '203.0.113.4', expiresAt: 1767268800 },
      { ip: '203.0.113.5', note: 'x', untill: '2026-01-02T00:00Z' },
    ]);
    let message = '';
    try {
      parseImportFile(file, NOW);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      'import refused, nothing written: item 2: "for" must be text (e.g. "8h"), got 8; ' +
        'item 3: "until" must be text (e.g. "2026-01-31T18:00Z"), got 1767268800; ' +
        'item 4: key "expiresAt" is not accepted: give "for" (e.g. "8h") or "until" (an ISO time) instead; ' +
        'item 5: unknown key "untill": an entry takes only "ip", "note", "for" and "until"',
    );
    expect(parseImportFile(JSON.stringify([{ ip: '203.0.113.1', note: 'n', for: '2h', until: undefined }]), NOW)).toEqual([
      { ip: '203.0.113.1', note: 'n', expiresAt: NOW_S + 7200 },
    ]);
  });
});

describe('command line', () => {
  it('refuses secrets as flags in any spelling', () => {
    expect(() => refuseSecretFlags(['bootstrap', 'x', '--api-key=abc'])).toThrow(/--api-key is refused/);
    expect(() => refuseSecretFlags(['bootstrap', '--API-KEY', 'abc'])).toThrow(/refused/);
    expect(() => refuseSecretFlags(['bootstrap', 'x', '--api-key-env', 'MY_KEY'])).not.toThrow();
  });

  it('is strict about flags and arity', () => {
    expect(parseCommandLine(desiredAdd, ['prod', '1.2.3.4', '--note', 'n']).values.note).toBe('n');
    expect(() => parseCommandLine(desiredAdd, ['prod', '1.2.3.4', '--colour'])).toThrow(/Unknown option '--colour'/);
    expect(() => parseCommandLine(desiredAdd, ['prod'])).toThrow(/missing <ip>/);
    expect(() => parseCommandLine(desiredAdd, ['prod', '1.2.3.4', 'extra'])).toThrow(/unexpected argument "extra"/);
  });

  it('describes bunq errors in one line, with details for --verbose, and no secrets', () => {
    const err = new BunqError('GET /v1/user/1: User credentials are incorrect. Incorrect API key or IP address.', {
      kind: 'credentials-rejected', status: 400, responseId: 'resp-1', operation: 'GET /v1/user/1',
    });
    const described = describeError(err);
    expect(described.message).toBe('bunq: GET /v1/user/1: User credentials are incorrect. Incorrect API key or IP address.');
    expect(described.details).toEqual(['kind: credentials-rejected', 'HTTP status: 400', 'bunq response id (for bunq support): resp-1', 'operation: GET /v1/user/1']);
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIabc\n-----END PRIVATE KEY-----';
    expect(describeError(new Error(`oops ${pem}\nsecond line`)).message).toBe('oops [REDACTED] second line');
  });
});

describe('desired view', () => {
  it('judges each item as the reconciler will', () => {
    const view = desiredView(
      {
        credential: 'prod',
        configItem: { mode: 'enforce' },
        desired: [
          { entry: 'ip#203.0.113.10', ip: '203.0.113.10', note: 'office' },
          { entry: 'ip#203.0.113.9', ip: '203.0.113.9', expiresAt: NOW_S - 1 },
          { entry: 'ip#10.0.0.01', ip: '10.0.0.01' },
        ],
        unknownEntries: [],
      },
      NOW,
    );
    expect(view.desiredIps).toEqual(['203.0.113.10']);
    expect(view.entries.map((e) => [e.entry, e.verdict])).toEqual([
      ['ip#10.0.0.01', 'invalid'],
      ['ip#203.0.113.9', 'expired'],
      ['ip#203.0.113.10', 'desired'],
    ]);
    expect(view.entries[0]?.reason).toMatch(/leading zero/);
  });
});

describe('AWS errors', () => {
  it('turn into one actionable line', () => {
    const missingTable = Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
    expect(describeError(missingTable).message).toMatch(/check the table names, DESIRED_TABLE_NAME/);
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(describeError(noCredentials).message).toMatch(/^no AWS credentials found/);
  });
});
