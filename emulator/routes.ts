/**
 * The route patterns the emulator serves, as they appear in fault rules, rate-limit rules and the
 * request log. `{id}` stands for one path segment of decimal digits.
 */
export const ROUTES = {
  installation: '/v1/installation',
  deviceServer: '/v1/device-server',
  sessionServer: '/v1/session-server',
  session: '/v1/session/{id}',
  userList: '/v1/user',
  user: '/v1/user/{id}',
  sandboxUserPerson: '/v1/sandbox-user-person',
  sandboxUserCompany: '/v1/sandbox-user-company',
  credentialList: '/v1/user/{id}/credential-password-ip',
  credential: '/v1/user/{id}/credential-password-ip/{id}',
  ipList: '/v1/user/{id}/credential-password-ip/{id}/ip',
  ip: '/v1/user/{id}/credential-password-ip/{id}/ip/{id}',
} as const;

export type RoutePattern = (typeof ROUTES)[keyof typeof ROUTES];

/** Which token a route needs (bunq-api.md §4.5); the middle kind also needs a request signature. */
export type RouteAuth = 'none' | 'installation-signed' | 'session';

export function authFor(route: RoutePattern): RouteAuth {
  switch (route) {
    case ROUTES.installation:
    case ROUTES.sandboxUserPerson:
    case ROUTES.sandboxUserCompany:
      return 'none';
    case ROUTES.deviceServer:
    case ROUTES.sessionServer:
      return 'installation-signed';
    default:
      return 'session';
  }
}

export interface RouteMatch {
  pattern: RoutePattern;
  /** The `{id}` segments in order of appearance. */
  ids: number[];
}

const ALL_PATTERNS = Object.values(ROUTES) as RoutePattern[];
const DIGITS = /^\d{1,15}$/;

export function matchRoute(pathname: string): RouteMatch | null {
  const segments = pathname.split('/');
  for (const pattern of ALL_PATTERNS) {
    const parts = pattern.split('/');
    if (parts.length !== segments.length) continue;
    const ids: number[] = [];
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const part = parts[i];
      const segment = segments[i] ?? '';
      if (part === '{id}') {
        if (DIGITS.test(segment)) ids.push(Number(segment));
        else ok = false;
      } else if (part !== segment) {
        ok = false;
      }
    }
    if (ok) return { pattern, ids };
  }
  return null;
}
