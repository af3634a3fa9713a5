// The console's token rule, the API's: when the controller has a token (always when it listens
// beyond loopback), every page and stream needs it. Browsers cannot put a bearer token on an
// EventSource, so a login form trades it for a cookie. The cookie holds a keyed hash of the
// token, never the token itself (which also grants the API's writes).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'wimaxvm_ui';

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The cookie value for a token: changes when the token does, reveals nothing of it. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('wimaxvm web console session').digest('base64url');
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Whether the request may see the console: no token set, or the token (bearer) or its session cookie. */
export function uiAuthorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ') && equal(header.slice(7), token)) return true;
  const session = cookie(req, SESSION_COOKIE);
  return session !== undefined && equal(session, sessionValue(token));
}

/** Set-Cookie for a good token: only for the console's paths, never sent cross-site, not readable by scripts. */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/ui; HttpOnly; SameSite=Strict`;
}

/** Whether a submitted token is the right one. */
export function tokenIsRight(given: string, token: string): boolean {
  return equal(given, token);
}
