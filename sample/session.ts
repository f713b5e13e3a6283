/**
 * Who is this browser? The sample keeps it deliberately simple: the name the person typed, in a cookie. A real app
 * would use its own session or token here; the authorizer only needs *some* way to tell who is asking.
 */
export const SESSION_COOKIE = 'sample_name';

/** Longest accepted display name. */
export const MAX_NAME_LENGTH = 32;

/** Names the authorizer refuses, so that a visitor can see what a refusal looks like. */
const REFUSED_NAME = /^(banned|mallory)/i;

export interface SampleUser {
  /** The Pusher user id: the name reduced to the characters a channel name allows (`#server-to-user-{id}`). */
  id: string;
  /** The name as typed, shown to the other members. */
  name: string;
}

/** Trims and checks a typed name; returns null when there is nothing usable. */
export function normalizeName(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const name = raw.trim().replace(/\s+/g, ' ');
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return null;
  // Control characters would make a cookie or a log line misbehave.
  if (/[\u0000-\u001f\u007f]/.test(name)) return null;
  return name;
}

/** The user id for a name: lower case, and only `[a-z0-9_-=@,.;]`, which Pusher allows in user ids. */
export function userIdFor(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9_\-=@,.;]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return id.length > 0 ? id : 'user';
}

/** True for the names this sample refuses on purpose ("banned...", "mallory..."). */
export function isRefusedName(name: string): boolean {
  return REFUSED_NAME.test(name);
}

/** Reads one cookie out of a `Cookie` header without a dependency. */
export function readCookie(cookieHeader: string | string[] | undefined, cookieName: string): string | null {
  const header = Array.isArray(cookieHeader) ? cookieHeader.join('; ') : cookieHeader;
  if (!header) return null;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() !== cookieName) continue;
    try {
      return decodeURIComponent(part.slice(separator + 1).trim());
    } catch {
      return null;
    }
  }
  return null;
}

/** The minimum of an HTTP request this file needs; Express and Fastify requests both fit. */
export interface RequestWithHeaders {
  headers: Record<string, string | string[] | undefined>;
}

/** The user behind a request, from the session cookie, or null when the browser has not joined yet. */
export function userFromRequest(request: unknown): SampleUser | null {
  const headers = (request as Partial<RequestWithHeaders> | null | undefined)?.headers;
  const name = normalizeName(readCookie(headers?.cookie, SESSION_COOKIE));
  return name === null ? null : { id: userIdFor(name), name };
}

/** The `Set-Cookie` value that remembers a name for this browser session. */
export function sessionCookie(name: string): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(name)}; Path=/; HttpOnly; SameSite=Lax`;
}
