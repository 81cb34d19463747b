/**
 * Emulator profiles: one per open question about bunq (bunq-api.md §10) whose answer changes what
 * the reconciler must do. Without a profile the emulator plays the answer we think most likely
 * (docs/decisions.md, "Issue 14"); each profile plays the other answer. Profiles combine.
 * `bunq-ip probe` names, per question, the profile whose behaviour bunq's sandbox showed.
 */

export const EMULATOR_PROFILES = [
  'standard-key-cannot-add-ips',
  'wildcard-unlisted',
  'no-entry-ids',
  'reactivation-refused',
  'duplicate-post-accepted',
  'errors-unsigned',
  'slow-instead-of-429',
  'fixed-session-expiry',
] as const;

export type EmulatorProfile = (typeof EMULATOR_PROFILES)[number];

/** What each profile plays, for help texts and the probe's report. */
export const PROFILE_BEHAVIOUR: Readonly<Record<EmulatorProfile, string>> = {
  'standard-key-cannot-add-ips':
    'POST of a new IP on a key registered without "*" is refused (400); keys registered with "*" may add IPs',
  'wildcard-unlisted': 'a "*" given at device registration is not listed (nor readable) as a PermittedIp entry',
  'no-entry-ids': 'PermittedIp list and read replies carry only ip and status (no id, created, updated)',
  'reactivation-refused': 'PUT of ACTIVE on an INACTIVE entry is refused (400)',
  'duplicate-post-accepted': 'POST of an IP the credential already has adds a second entry',
  'errors-unsigned': '4xx error replies carry no X-Bunq-Server-Signature',
  'slow-instead-of-429': 'a call over the rate limit is held until the window admits it, instead of a 429',
  'fixed-session-expiry': 'a session expires at creation + session_timeout, whatever calls it made',
};

export function isEmulatorProfile(name: string): name is EmulatorProfile {
  return (EMULATOR_PROFILES as readonly string[]).includes(name);
}

/** Validates profile names (from a command line or a test); throws naming the known ones. */
export function parseProfiles(names: readonly string[]): EmulatorProfile[] {
  const out: EmulatorProfile[] = [];
  for (const name of names) {
    if (!isEmulatorProfile(name)) {
      throw new Error(`unknown emulator profile "${name}" (known: ${EMULATOR_PROFILES.join(', ')})`);
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}
