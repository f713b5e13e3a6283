// Packs the package as `npm publish` would and checks the tarball with publint and @arethetypeswrong/cli (every
// resolution mode: node10, node16 CommonJS, node16 ESM, bundler), then loads both builds into one process
// (test/package/). Any error fails the run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packTarball } from './pack.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'nest-pusher-package-'));
try {
  const tarball = packTarball(scratch);
  const run = (bin, args) =>
    execFileSync(join(root, 'node_modules', '.bin', bin), args, { cwd: root, stdio: 'inherit' });
  run('publint', ['run', tarball, '--strict']);
  run('attw', [tarball, '--profile', 'strict']);
  // Both builds in one process (dist/ is what was just packed).
  execFileSync(process.execPath, ['--test', 'test/package/'], { cwd: root, stdio: 'inherit' });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
