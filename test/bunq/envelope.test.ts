import { describe, expect, it } from 'vitest';
import {
  EnvelopeError,
  allOfType,
  credentialPasswordIp,
  errorDescriptions,
  idReply,
  installationReply,
  pagination,
  parseJson,
  permittedIp,
  responseItems,
  sessionServerReply,
  single,
  userFromItems,
} from '../../lambdas/bunq/envelope';
import { NO_PERMITTED_IP_ID } from '../../lambdas/bunq/types';
import { NO_ENTRY_ID } from '../../lambdas/core/types';

const b = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const items = (value: unknown) => responseItems(parseJson(b(value)));
const PEM = '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----';

describe('responseItems', () => {
  it('unwraps each element to its single type key', () => {
    expect(items({ Response: [{ Id: { id: 1 } }, { Token: { token: 't' } }] })).toEqual([
      { type: 'Id', value: { id: 1 } },
      { type: 'Token', value: { token: 't' } },
    ]);
  });

  it.each([
    ['not JSON', '<html>502</html>', /not JSON/],
    ['not an object', '[1]', /not a JSON object/],
    ['no Response', { Error: [] }, /no Response array/],
    ['Response not an array', { Response: { Id: { id: 1 } } }, /no Response array/],
    ['element not an object', { Response: [7] }, /Response\[0\] is not an object/],
    ['two keys in one element', { Response: [{ Id: { id: 1 }, Token: {} }] }, /exactly one/],
    ['no key', { Response: [{}] }, /exactly one/],
    ['wrapped value not an object', { Response: [{ Id: 5 }] }, /Response\[0\]\.Id is not an object/],
  ])('rejects %s', (_name, body, message) => {
    expect(() => items(body)).toThrow(EnvelopeError);
    expect(() => items(body)).toThrow(message);
  });
});

describe('Id, installation and session-server replies', () => {
  it('reads the id of a POST/PUT reply', () => {
    expect(idReply(items({ Response: [{ Id: { id: 42 } }] }))).toBe(42);
  });

  it.each([
    [{ Response: [] }, /exactly one Id/],
    [{ Response: [{ Id: { id: '42' } }] }, /Id\.id is not a positive integer/],
    [{ Response: [{ Id: { id: 0 } }] }, /positive integer/],
    [{ Response: [{ Id: { id: 1.5 } }] }, /positive integer/],
    [{ Response: [{ Id: { id: 1 } }, { Id: { id: 2 } }] }, /found 2/],
  ])('rejects a bad Id reply %#', (body, message) => {
    expect(() => idReply(items(body))).toThrow(message);
  });

  it('reads installation by type, not only by position', () => {
    const reply = installationReply(
      items({ Response: [{ ServerPublicKey: { server_public_key: PEM } }, { Id: { id: 53 } }, { Token: { id: 1, token: 'tok' } }] }),
    );
    expect(reply).toEqual({ id: 53, token: 'tok', serverPublicKeyPem: PEM });
  });

  it('rejects an installation without token or with a non-PEM key, naming the field but not its value', () => {
    expect(() => installationReply(items({ Response: [{ Id: { id: 1 } }, { Token: { token: '' } }, { ServerPublicKey: { server_public_key: PEM } }] }))).toThrow(
      'Token.token is not a non-empty string',
    );
    const err = (() => {
      try {
        installationReply(items({ Response: [{ Id: { id: 1 } }, { Token: { token: 'secret-token-value' } }, { ServerPublicKey: { server_public_key: 'nope' } }] }));
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a throw');
    })();
    expect(err.message).toMatch(/not an SPKI PEM/);
    expect(err.message).not.toContain('secret-token-value');
  });

  it('reads a session-server reply with UserPerson / UserCompany and their session_timeout', () => {
    for (const kind of ['UserPerson', 'UserCompany'] as const) {
      const reply = sessionServerReply(
        items({ Response: [{ Id: { id: 9 } }, { Token: { id: 9, token: 'sess' } }, { [kind]: { id: 7, display_name: 'Ada', session_timeout: 300 } }] }),
      );
      expect(reply).toEqual({ id: 9, token: 'sess', user: { kind, id: 7, displayName: 'Ada', sessionTimeoutSeconds: 300 } });
    }
  });

  it('reads session_timeout of a UserApiKey from requested_by_user', () => {
    const user = userFromItems(
      items({ Response: [{ UserApiKey: { id: 11, requested_by_user: { UserCompany: { id: 3, display_name: 'Co', session_timeout: 600 } } } }] }),
    );
    expect(user).toEqual({ kind: 'UserApiKey', id: 11, displayName: 'Co', sessionTimeoutSeconds: 600 });
  });

  it.each([
    [{ Response: [{ Id: { id: 9 } }, { Token: { token: 's' } }] }, /exactly one user object/],
    [{ Response: [{ UserPerson: { id: 7 } }] }, /UserPerson\.session_timeout is not a positive integer/],
    [{ Response: [{ UserPerson: { id: 7, session_timeout: -1 } }] }, /session_timeout/],
    [{ Response: [{ UserPerson: { id: 7, session_timeout: 300, display_name: 5 } }] }, /display_name is not a string/],
    [{ Response: [{ UserApiKey: { id: 1 } }] }, /requested_by_user is not an object/],
    [{ Response: [{ UserApiKey: { id: 1, requested_by_user: {} } }] }, /exactly one user object/],
    [{ Response: [{ UserPerson: { id: 7, session_timeout: 1 } }, { UserCompany: { id: 8, session_timeout: 1 } }] }, /found 2/],
  ])('rejects a bad user %#', (body, message) => {
    expect(() => userFromItems(items(body))).toThrow(message);
  });
});

describe('PermittedIp and CredentialPasswordIp', () => {
  it('maps a PermittedIp, with or without timestamps', () => {
    expect(permittedIp({ id: 123, created: '2018-04-24 09:22:57.333333', updated: null, ip: '101.211.110.10', status: 'ACTIVE' })).toEqual({
      id: 123, created: '2018-04-24 09:22:57.333333', updated: null, ip: '101.211.110.10', status: 'ACTIVE',
    });
    expect(permittedIp({ id: 1, ip: '*', status: 'INACTIVE' })).toEqual({ id: 1, ip: '*', status: 'INACTIVE', created: null, updated: null });
  });

  it.each([
    ['no id', { ip: '1.2.3.4', status: 'ACTIVE' }, { id: 0 }],
    ['a negative id', { id: -4, ip: '1.2.3.4', status: 'ACTIVE' }, { id: 0 }],
    ['a string id', { id: '5', ip: '1.2.3.4', status: 'ACTIVE' }, { id: 0 }],
    ['a fractional id', { id: 1.5, ip: '1.2.3.4', status: 'ACTIVE' }, { id: 0 }],
    ['an empty ip', { id: 1, ip: '', status: 'ACTIVE' }, { ip: '' }],
    ['no ip', { id: 1, status: 'ACTIVE' }, { ip: '' }],
    ['a lower-case status', { id: 1, ip: '1.2.3.4', status: 'active' }, { status: 'active' }],
    ['an unknown status', { id: 1, ip: '1.2.3.4', status: 'PENDING' }, { status: 'PENDING' }],
    ['a non-string status', { id: 1, ip: '1.2.3.4', status: 3 }, { status: '' }],
    ['a numeric created', { id: 1, ip: '1.2.3.4', status: 'ACTIVE', created: 1588, updated: {} }, { created: null, updated: null }],
  ])('keeps an odd PermittedIp (%s) with the field it cannot use marked, instead of throwing', (_name, value, expected) => {
    expect(permittedIp(value)).toMatchObject(expected);
  });

  it('marks an unusable id with NO_PERMITTED_IP_ID, the same placeholder the core never acts on', () => {
    expect(NO_PERMITTED_IP_ID).toBe(NO_ENTRY_ID);
    expect(permittedIp({ ip: '1.2.3.4', status: 'ACTIVE' }).id).toBe(NO_PERMITTED_IP_ID);
  });

  it('maps a CredentialPasswordIp and never keeps token_value', () => {
    const c = credentialPasswordIp({
      id: 12121212, created: '2020-04-23 10:12:11.777777', updated: '2020-04-23 11:23:43.333332', status: 'ACTIVE',
      expiry_time: null, token_value: 'psd2-secret', permitted_device: { description: 'worker02.bunq.me', ip: '13.197.100.10' },
    });
    expect(c).toEqual({
      id: 12121212, created: '2020-04-23 10:12:11.777777', updated: '2020-04-23 11:23:43.333332', status: 'ACTIVE',
      expiryTime: null, permittedDevice: { description: 'worker02.bunq.me', ip: '13.197.100.10' },
    });
    expect(JSON.stringify(c)).not.toContain('psd2-secret');
    expect(credentialPasswordIp({ id: 1, status: 'PENDING_FIRST_USE', permitted_device: null }).permittedDevice).toBeNull();
  });

  it('rejects a credential with a non-object permitted_device or no status', () => {
    expect(() => credentialPasswordIp({ id: 1, status: 'ACTIVE', permitted_device: 'x' })).toThrow(/permitted_device is not an object/);
    expect(() => credentialPasswordIp({ id: 1 })).toThrow(/status/);
  });

  it('requires every list element to be of the listed type', () => {
    const list = items({ Response: [{ PermittedIp: { id: 1 } }, { Id: { id: 2 } }] });
    expect(() => allOfType(list, 'PermittedIp')).toThrow(/Response\[1\] is Id, expected PermittedIp/);
    expect(() => single(list, 'Token')).toThrow(/found 0/);
  });
});

describe('pagination', () => {
  it('reads the three urls, null included', () => {
    expect(pagination({ Pagination: { future_url: null, newer_url: '/v1/x?newer_id=2', older_url: '/v1/x?older_id=1' } })).toEqual({
      futureUrl: null, newerUrl: '/v1/x?newer_id=2', olderUrl: '/v1/x?older_id=1',
    });
  });

  it('rejects a list reply without a Pagination object or with non-string urls', () => {
    expect(() => pagination({ Response: [] })).toThrow(/no Pagination/);
    expect(() => pagination({ Pagination: { older_url: 5 } })).toThrow(/older_url is neither a string nor null/);
  });
});

describe('errorDescriptions', () => {
  it('collects every error_description in order', () => {
    expect(errorDescriptions(b({ Error: [{ error_description: 'A', error_description_translated: 'a' }, { error_description: 'B' }] }))).toEqual(['A', 'B']);
  });

  it('is lenient with bodies that are not an Error envelope', () => {
    expect(errorDescriptions(b('<html>502 Bad Gateway</html>'))).toEqual([]);
    expect(errorDescriptions(b({ Response: [] }))).toEqual([]);
    expect(errorDescriptions(b({ Error: [{ error_description: 5 }, 'x'] }))).toEqual([]);
  });
});
