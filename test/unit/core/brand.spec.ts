import { describe, expect, it } from '@jest/globals';
import { brandClass } from '../../../lib/core/brand.js';
import { PusherError, PusherRequestError, PusherValidationError } from '../../../lib/core/pusher.errors.js';

/** What the other build's classes look like to this one: same names, different class objects. */
class OtherCopyPusherError extends Error {
  static {
    brandClass(this, 'PusherError');
  }
}
class OtherCopyValidationError extends OtherCopyPusherError {
  static {
    brandClass(this, 'PusherValidationError');
  }
}

describe('brandClass', () => {
  it('makes instanceof hold for instances of a class branded with the same name elsewhere', () => {
    expect(new OtherCopyValidationError('x')).toBeInstanceOf(PusherValidationError);
    expect(new OtherCopyValidationError('x')).toBeInstanceOf(PusherError);
    expect(new PusherValidationError({ message: 'x', rule: 'channels-count' })).toBeInstanceOf(
      OtherCopyValidationError,
    );
  });

  it('keeps sibling classes apart and refuses non-objects', () => {
    expect(new OtherCopyValidationError('x')).not.toBeInstanceOf(PusherRequestError);
    expect(new OtherCopyPusherError('x')).not.toBeInstanceOf(PusherValidationError);
    expect(new Error('plain')).not.toBeInstanceOf(PusherError);
    for (const value of [null, undefined, 'PusherError', 42] as unknown[])
      expect((value as object) instanceof PusherError).toBe(false);
  });

  it("leaves a user's own subclass with the ordinary prototype check", () => {
    class AppError extends PusherError {}
    expect(new AppError('x')).toBeInstanceOf(AppError);
    expect(new AppError('x')).toBeInstanceOf(PusherError);
    expect(new PusherValidationError({ message: 'x', rule: 'channels-count' })).not.toBeInstanceOf(AppError);
  });
});
