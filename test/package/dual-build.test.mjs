// Loads the ESM build (import) and the CommonJS build (require) of the built package into one process, through the
// package's own exports map, and checks that the two copies agree: errors from either copy pass `instanceof` for the
// other's classes, and Nest metadata written by one copy is read by the other. Run by scripts/check-package.mjs
// after packing (it needs dist/); run alone with `npm run build && node --test test/package/`.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const esm = await import('nest-pusher');
const cjs = require('nest-pusher');
const esmCore = await import('nest-pusher/core');
const cjsCore = require('nest-pusher/core');

const ERROR_CLASSES = {
  PusherError: ['boom'],
  PusherConfigurationError: ['bad option', 'appId'],
  PusherValidationError: ['bad channel', 'channel-name'],
  PusherRequestError: ['failed', 'POST', '/events', 500, 'oops'],
  PusherWebhookError: ['forged', 'invalid-signature'],
  HttpTransportError: ['refused', 'ECONNREFUSED', false],
  TimeoutReason: [1000],
  PusherWebhookRejectedException: ['invalid-signature'],
};

test('the two loads are two copies (otherwise this file proves nothing)', () => {
  assert.notEqual(esm.PusherError, cjs.PusherError);
  assert.notEqual(esm.PusherModule, cjs.PusherModule);
  assert.equal(esmCore.Pusher, esm.Pusher);
  assert.equal(cjsCore.Pusher, cjs.Pusher);
});

test('instanceof holds across the copies for every error class, both ways', () => {
  for (const [name, args] of Object.entries(ERROR_CLASSES)) {
    for (const [made, checked] of [
      [esm, cjs],
      [cjs, esm],
    ]) {
      assert.equal(typeof made[name], 'function', `${name} is exported`);
      const error = new made[name](...args);
      assert.ok(error instanceof checked[name], `${name} from one copy is instanceof the other's`);
      assert.ok(error instanceof made[name]);
      assert.ok(error instanceof Error);
    }
  }
  const dispatchError = new esm.PusherWebhookDispatchError({ events: 1, handlerRuns: 1, failures: [] });
  assert.ok(dispatchError instanceof cjs.PusherWebhookDispatchError);
});

test('subclasses stay distinct: a subclass brand never matches its siblings or a plain Error', () => {
  const validation = new cjs.PusherValidationError('bad', 'channel-name');
  assert.ok(validation instanceof esm.PusherError);
  assert.ok(!(validation instanceof esm.PusherRequestError));
  assert.ok(!(new Error('plain') instanceof esm.PusherError));
  assert.ok(!(null instanceof esm.PusherError) && !('PusherError' instanceof esm.PusherError));
  class AppError extends esm.PusherError {}
  assert.ok(new AppError('x') instanceof AppError);
  assert.ok(!(validation instanceof AppError), "a user's subclass keeps the ordinary prototype check");
});

test('Nest metadata and request keys are the same whichever copy wrote them', async () => {
  // The request key the guard writes and @VerifiedWebhook() reads is internal, so it is read from the build files.
  const esmConstants = await import('../../dist/esm/pusher.constants.js');
  const cjsConstants = require('../../dist/cjs/pusher.constants.js');
  assert.equal(typeof esmConstants.PUSHER_VERIFIED_WEBHOOK, 'symbol');
  assert.equal(esmConstants.PUSHER_VERIFIED_WEBHOOK, cjsConstants.PUSHER_VERIFIED_WEBHOOK);
  assert.equal(esmConstants.PUSHER_EVENT_HANDLER_METADATA, cjsConstants.PUSHER_EVENT_HANDLER_METADATA);
  assert.equal(typeof esm.PUSHER_AUTHORIZER, 'string');
  assert.equal(esm.PUSHER_AUTHORIZER, cjs.PUSHER_AUTHORIZER);
  // The options token (it holds the secret) is internal, so it too is read from the build files.
  assert.equal(esm.PUSHER_MODULE_OPTIONS, undefined, 'the options token is not part of the public API');
  for (const token of ['PUSHER_MODULE_OPTIONS', 'PUSHER_WEBHOOK_SETTINGS']) {
    assert.equal(typeof esmConstants[token], 'string');
    assert.equal(esmConstants[token], cjsConstants[token]);
  }
  class Listener {
    onMemberAdded() {}
  }
  const descriptor = Object.getOwnPropertyDescriptor(Listener.prototype, 'onMemberAdded');
  cjs.OnPusherEvent('member_added')(Listener.prototype, 'onMemberAdded', descriptor);
  const keys = Reflect.getMetadataKeys(descriptor.value).filter((key) => String(key).includes('pusher'));
  assert.equal(keys.length, 1, 'one metadata key, written by the CommonJS copy');
  const written = Reflect.getMetadata(keys[0], descriptor.value);
  assert.ok(JSON.stringify(written).includes('member_added'));
  assert.equal(typeof keys[0], 'string', 'metadata keys are strings, identical in both copies');
});

test('both builds report the version in package.json', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const builds = [await import('../../dist/esm/core/version.js'), require('../../dist/cjs/core/version.js')];
  for (const build of builds) assert.equal(build.LIBRARY_VERSION, version);
});

test('no module of either build reads a file or import.meta when it loads', () => {
  const dist = new URL('../../dist/', import.meta.url).pathname;
  const files = readdirSync(dist, { recursive: true }).filter((file) => file.endsWith('.js'));
  assert.ok(files.length > 40, `dist/ holds both builds (${files.length} files)`);
  for (const file of files) {
    const source = readFileSync(join(dist, file), 'utf8');
    assert.doesNotMatch(source, /import\.meta|createRequire|readFileSync|readFile\(/, file);
  }
});

test('every entry point in lib/ (lib/<name>/index.ts) has import and require entries and a typesVersions line', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const lib = new URL('../../lib/', import.meta.url).pathname;
  const entries = readdirSync(lib, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && readdirSync(join(lib, entry.name)).includes('index.ts'))
    .map((entry) => entry.name);
  assert.ok(entries.includes('core'));
  for (const name of entries) {
    const conditions = pkg.exports[`./${name}`];
    assert.ok(conditions, `package.json exports has "./${name}"`);
    assert.equal(conditions.import.default, `./dist/esm/${name}/index.js`);
    assert.equal(conditions.require.default, `./dist/cjs/${name}/index.js`);
    assert.deepEqual(pkg.typesVersions['*'][name], [`./dist/cjs/${name}/index.d.ts`]);
  }
});
