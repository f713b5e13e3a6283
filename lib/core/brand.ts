/**
 * Makes `instanceof SomeClass` hold for instances made by any copy of this package in the process.
 *
 * The package ships an ESM and a CommonJS build. Node can load both in one process (an ESM app whose dependency
 * `require()`s the package), and each build has its own classes, so a plain `instanceof` would miss an error thrown
 * by the other copy. A branded class marks its prototype with a process-wide symbol (`Symbol.for`) and answers
 * `instanceof` by that mark. Subclasses that are not branded themselves (a user's `class X extends PusherError`) keep
 * the ordinary prototype-chain check.
 *
 * Call it from the class's static block with a name that never changes: `static { brandClass(this, 'PusherError'); }`.
 */
export function brandClass(target: abstract new (...args: never[]) => unknown, name: string): void {
  const mark = Symbol.for(`nest-pusher:class:${name}`);
  Object.defineProperty(target.prototype, mark, { value: true });
  Object.defineProperty(target, Symbol.hasInstance, {
    value: function hasInstance(this: unknown, value: unknown): boolean {
      if (this !== target) return Function.prototype[Symbol.hasInstance].call(this, value);
      return (typeof value === 'object' || typeof value === 'function') && value !== null && mark in value;
    },
  });
}
