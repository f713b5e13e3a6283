/**
 * Why undici cannot carry requests in the running JavaScript runtime, or `undefined` where it can (Node, Deno).
 * Checked by name rather than by trying: on Workers even loading undici fails, and Bun's stand-in only fails on the
 * first request.
 */
export function undiciUnavailableReason(): string | undefined {
  // Cloudflare documents this user agent as the way to tell a Worker; undici needs raw TCP sockets it does not have.
  if ((globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent === 'Cloudflare-Workers') {
    return 'Cloudflare Workers gives undici no sockets';
  }
  // Bun answers `import 'undici'` with its own module, whose Agent has no dispatch().
  if ((globalThis as { process?: { versions?: { bun?: unknown } } }).process?.versions?.bun !== undefined) {
    return 'Bun replaces undici with its own module, whose Agent has no dispatch()';
  }
  return undefined;
}
