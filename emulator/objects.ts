import type { Credential, IpEntry, User } from './model';
import { PENDING_KEY_VALIDITY_MS } from './model';
import { bunqTimestamp, type WireObject } from './wire';

/**
 * bunq's JSON shapes for our objects. Fields bunq has but the emulator does not model are present
 * as explicit nulls (or empty lists), as bunq sends them, so clients cannot come to rely on absence.
 */

export function userObject(user: User, sessionTimeoutSeconds: number): WireObject {
  const created = bunqTimestamp(user.createdMs);
  const common = {
    id: user.id,
    created,
    updated: created,
    public_uuid: user.publicUuid,
    display_name: user.displayName,
    public_nick_name: user.displayName.split(' ')[0] ?? user.displayName,
    alias: [],
    avatar: null,
    address_main: null,
    address_postal: null,
    language: 'en_US',
    region: 'nl_NL',
    status: 'ACTIVE',
    sub_status: 'NONE',
    session_timeout: sessionTimeoutSeconds,
    daily_limit_without_confirmation_login: { value: '0.00', currency: 'EUR' },
    notification_filters: [],
    relations: [],
  };
  if (user.kind === 'UserCompany') {
    return { ...common, name: user.displayName, chamber_of_commerce_number: null, legal_form: null, ubo: [] };
  }
  return {
    ...common,
    first_name: null,
    middle_name: null,
    last_name: null,
    legal_name: user.displayName,
    gender: null,
    date_of_birth: null,
    nationality: null,
  };
}

export function credentialObject(credential: Credential): WireObject {
  const pending = credential.status === 'PENDING_FIRST_USE';
  return {
    id: credential.id,
    created: bunqTimestamp(credential.createdMs),
    updated: bunqTimestamp(credential.updatedMs),
    status: credential.status,
    expiry_time: pending ? bunqTimestamp(credential.createdMs + PENDING_KEY_VALIDITY_MS) : null,
    // bunq documents token_value for pending credentials; the emulator never echoes a secret.
    token_value: null,
    permitted_device: credential.permittedDevice === null
      ? null
      : { description: credential.permittedDevice.description, ip: credential.permittedDevice.ip },
  };
}

/** `withIds: false` plays profile `no-entry-ids`: only ip and status, as bunq's swagger shows them. */
export function permittedIpObject(entry: IpEntry, withIds = true): WireObject {
  if (!withIds) return { ip: entry.ip, status: entry.status };
  return {
    id: entry.id,
    created: bunqTimestamp(entry.createdMs),
    updated: bunqTimestamp(entry.updatedMs),
    ip: entry.ip,
    status: entry.status,
  };
}
