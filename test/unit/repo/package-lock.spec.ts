/**
 * A fresh clone must stay clean after `npm install` / `npm ci`: npm drops `extraneous` entries (packages nothing
 * depends on) from the lockfile when it installs, so any such entry comes back as a diff on a newcomer's machine.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

describe('package-lock.json', () => {
  it('has no extraneous package (npm install would rewrite it)', () => {
    const lock = JSON.parse(readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8')) as {
      lockfileVersion: number;
      packages: Record<string, { extraneous?: boolean }>;
    };
    expect(lock.lockfileVersion).toBe(3);
    expect(Object.keys(lock.packages).length).toBeGreaterThan(100);
    expect(
      Object.entries(lock.packages)
        .filter(([, entry]) => entry.extraneous === true)
        .map(([path]) => path),
    ).toEqual([]);
  });
});
