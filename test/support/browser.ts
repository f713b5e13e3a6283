/**
 * Headless Chromium for the browser tests. By default it is the one `npm ci` installs: `@sparticuz/chromium` ships a
 * brotli-compressed chrome-headless-shell together with the NSS libraries and the font it needs, which we unpack once
 * per package version under `node_modules/.cache`. Setting `CHROMIUM_PATH` uses that Chromium instead.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';

/** Headless, and everything that would reach out to the network switched off. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Headless Chromium: `CHROMIUM_PATH` if set, otherwise the one from `@sparticuz/chromium`. */
export async function launchChromium(): Promise<Browser> {
  const userChromium = process.env.CHROMIUM_PATH;
  if (userChromium) return chromium.launch({ executablePath: userChromium, args: CHROMIUM_FLAGS });
  const unpacked = await unpackNpmChromium();
  return chromium.launch({ executablePath: unpacked.executablePath, args: CHROMIUM_FLAGS, env: unpacked.env });
}

export interface UnpackedChromium {
  executablePath: string;
  /** The environment to launch it with: its own libraries and fonts, so that it needs nothing from the system. */
  env: Record<string, string>;
}

/** Unpacks `@sparticuz/chromium` into `cacheRoot` unless an earlier run already did, and says how to launch it. */
export async function unpackNpmChromium(cacheRoot?: string): Promise<UnpackedChromium> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `The Chromium from @sparticuz/chromium runs on Linux x64 only (this is ${process.platform} ${process.arch}); ` +
        'set CHROMIUM_PATH to a Chromium or Chrome executable to run the browser tests here.',
    );
  }
  const packageDir = resolve(createRequire(import.meta.url).resolve('@sparticuz/chromium'), '../../..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const binDir = join(packageDir, 'bin');
  // node_modules/.cache: private to this checkout (unlike a shared /tmp), and `npm ci` starts it afresh.
  const dir = join(cacheRoot ?? join(packageDir, '../../.cache'), `sparticuz-chromium-${version}`);
  await installOnce(dir, (staging) => unpackInto(staging, binDir, dir));
  return {
    executablePath: join(dir, 'chromium'),
    env: {
      ...(process.env as Record<string, string>),
      LD_LIBRARY_PATH: [join(dir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
    },
  };
}

/**
 * Makes `dir` with `build`, which fills a private staging directory beside it that is then renamed into place, so
 * that nobody ever sees a half-built `dir`. When several processes (jest workers) race, the first rename wins and
 * the others throw their copy away. Does nothing if `dir` already exists.
 */
export async function installOnce(dir: string, build: (staging: string) => Promise<void>): Promise<void> {
  if (existsSync(dir)) return;
  const staging = `${dir}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  await mkdir(staging, { recursive: true });
  try {
    await build(staging);
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // ENOTEMPTY/EEXIST: another process renamed its whole copy into place first; use that one.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
}

/** The browser, the NSS/NSPR/expat libraries it links (`lib/`), and a font with a fontconfig file naming `finalDir`. */
async function unpackInto(staging: string, binDir: string, finalDir: string): Promise<void> {
  const archive = join(binDir, 'chromium.br');
  if (!existsSync(archive)) throw new Error(`${archive} is missing: run npm ci to reinstall @sparticuz/chromium.`);
  const executable = createWriteStream(join(staging, 'chromium'), { mode: 0o755 });
  await pipeline(createReadStream(archive), createBrotliDecompress(), executable);
  untarBrotli(join(binDir, 'al2023.tar.br'), staging);
  untarBrotli(join(binDir, 'fonts.tar.br'), staging);
  // The package's own fonts.conf points at AWS Lambda's folders; ours points at the fonts beside the browser.
  await writeFile(
    join(staging, 'fonts.conf'),
    `<?xml version="1.0"?>\n<fontconfig>\n  <dir>${join(finalDir, 'fonts')}</dir>\n` +
      `  <cachedir>${join(finalDir, 'fontconfig-cache')}</cachedir>\n</fontconfig>\n`,
  );
}

function untarBrotli(archive: string, into: string): void {
  const tarball = brotliDecompressSync(readFileSync(archive));
  const result = spawnSync('tar', ['-x', '--no-same-owner', '-C', into], { input: tarball });
  if (result.error) throw new Error(`Could not run tar to unpack ${archive}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`tar could not unpack ${archive}: ${result.stderr.toString().trim()}`);
}
