import { readFileSync } from 'node:fs';
import { expect, test } from '@jest/globals';
import { LIBRARY_VERSION } from '../../../lib/core/version.js';

test('LIBRARY_VERSION equals package.json version (npm version runs scripts/write-version.mjs)', () => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  expect(LIBRARY_VERSION).toBe(version);
});
