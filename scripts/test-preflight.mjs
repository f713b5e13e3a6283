// Run by `pretest`: checks what `npm test` needs beyond `npm install`, so that a fresh clone needs nothing else.
// - redis-server (Debian's package; npm has no real Redis): missing → one line with the install command, exit 1.
// - the pinned runtimes of scripts/runtime-toolchain (Node 22, Deno, Bun, workerd, esbuild): installed from npm when
//   missing or not the pinned versions.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error !== undefined) {
  console.error(
    "npm test needs redis-server (multi-replica and webhook delivery store specs): install Debian's redis-server package (apt-get install -y redis-server)",
  );
  process.exit(1);
}

const toolchain = join(root, 'scripts/runtime-toolchain');
const pinned = JSON.parse(readFileSync(join(toolchain, 'package.json'), 'utf8')).devDependencies;

function installedVersion(name) {
  const manifest = join(toolchain, 'node_modules', name, 'package.json');
  return existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : undefined;
}

const stale = Object.entries(pinned).filter(([name, version]) => installedVersion(name) !== version);
if (stale.length > 0) {
  console.log(
    `Installing the runtime toolchain (${stale.map(([name]) => name).join(', ')}) into scripts/runtime-toolchain`,
  );
  execFileSync('npm', ['ci', '--prefix', toolchain, '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
