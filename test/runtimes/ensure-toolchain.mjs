// Installs the pinned runtimes of test/runtimes/toolchain (Node 22, Deno, Bun, workerd, esbuild) when they are missing
// or not the pinned versions, so that `npm install && npm test` is all a fresh clone needs. Run by `pretest`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const toolchain = join(dirname(fileURLToPath(import.meta.url)), 'toolchain');
const pinned = JSON.parse(readFileSync(join(toolchain, 'package.json'), 'utf8')).devDependencies;

function installedVersion(name) {
  const manifest = join(toolchain, 'node_modules', name, 'package.json');
  return existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : undefined;
}

const stale = Object.entries(pinned).filter(([name, version]) => installedVersion(name) !== version);
if (stale.length > 0) {
  console.log(`Installing the runtime toolchain (${stale.map(([name]) => name).join(', ')}) into test/runtimes/toolchain`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['ci', '--prefix', toolchain, '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
