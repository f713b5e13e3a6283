/** The browser's unpacked copy is shared by jest workers: two of them unpacking at once must leave one whole copy. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { installOnce } from '../../support/browser.js';

describe('installOnce', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'install-once-'));
    dir = join(root, 'unpacked');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('two racing builders: nobody sees a half-built directory, one whole copy wins, no staging is left', async () => {
    let bothStarted!: () => void;
    const barrier = new Promise<void>((resolve) => (bothStarted = resolve));
    let started = 0;
    const seenMidway: boolean[] = [];
    const builder = (id: string) => async (staging: string) => {
      await writeFile(join(staging, 'first'), id);
      if (++started === 2) bothStarted();
      await barrier;
      seenMidway.push(existsSync(dir));
      await writeFile(join(staging, 'second'), id);
    };
    await Promise.all([installOnce(dir, builder('a')), installOnce(dir, builder('b'))]);
    expect(seenMidway).toEqual([false, false]);
    const first = readFileSync(join(dir, 'first'), 'utf8');
    expect(['a', 'b']).toContain(first);
    expect(readFileSync(join(dir, 'second'), 'utf8')).toBe(first);
    expect(readdirSync(root)).toEqual(['unpacked']);
  });

  it('leaves an existing directory alone', async () => {
    await installOnce(dir, (staging) => writeFile(join(staging, 'file'), 'one'));
    await installOnce(dir, (staging) => writeFile(join(staging, 'file'), 'two'));
    expect(readFileSync(join(dir, 'file'), 'utf8')).toBe('one');
  });

  it('a failed build throws its error and leaves nothing behind', async () => {
    const failing = async (staging: string) => {
      await writeFile(join(staging, 'part'), 'x');
      throw new Error('disk full');
    };
    await expect(installOnce(dir, failing)).rejects.toThrow('disk full');
    expect(readdirSync(root)).toEqual([]);
  });
});
