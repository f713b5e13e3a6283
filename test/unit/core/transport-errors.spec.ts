import { describe, expect, it } from '@jest/globals';
import { toHttpTransportError } from '../../../lib/core/transport/transport-errors.js';

const socketError = (code: string): Error => Object.assign(new Error(`socket ${code}`), { code });
const context = { closed: false, viaProxy: false, responded: false };

describe('toHttpTransportError', () => {
  it('counts a socket ETIMEDOUT as not sent only when the request provably never reached a connected socket', () => {
    expect(toHttpTransportError(socketError('ETIMEDOUT'), { ...context, requestStarted: false })).toMatchObject({
      code: 'ETIMEDOUT',
      requestSent: false,
    });
    // Written, or unknown: the server may have processed it, so it must not be retried as "not sent".
    expect(toHttpTransportError(socketError('ETIMEDOUT'), { ...context, requestStarted: true })).toMatchObject({
      code: 'ETIMEDOUT',
      requestSent: true,
    });
    expect(toHttpTransportError(socketError('ETIMEDOUT'), context)).toMatchObject({
      code: 'ETIMEDOUT',
      requestSent: true,
    });
  });

  it("counts undici's connect timeout as not sent, and a refused connection as not sent", () => {
    expect(toHttpTransportError(socketError('UND_ERR_CONNECT_TIMEOUT'), context)).toMatchObject({
      code: 'ETIMEDOUT',
      requestSent: false,
    });
    expect(toHttpTransportError(socketError('ECONNREFUSED'), context)).toMatchObject({
      code: 'ECONNREFUSED',
      requestSent: false,
    });
    expect(toHttpTransportError(socketError('ECONNREFUSED'), { ...context, viaProxy: true })).toMatchObject({
      code: 'EPROXY',
      requestSent: false,
    });
  });
});
