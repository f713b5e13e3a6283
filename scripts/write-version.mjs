// Writes package.json's version into lib/core/version.ts. Runs from the `version` script, so `npm version` keeps them
// equal; the library itself never reads package.json (no file read or import.meta at module load, in either build).
import { readFileSync, writeFileSync } from 'node:fs';

const versionFile = new URL('../lib/core/version.ts', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const source = readFileSync(versionFile, 'utf8');
const updated = source.replace(/LIBRARY_VERSION = '[^']*'/, `LIBRARY_VERSION = '${version}'`);
if (!updated.includes(`'${version}'`)) throw new Error('lib/core/version.ts has no LIBRARY_VERSION constant to update');
writeFileSync(versionFile, updated);
