// Packs the package as `npm publish` would and checks the tarball with publint and @arethetypeswrong/cli (every
// resolution mode: node10, node16 CommonJS, node16 ESM, bundler). Any error from either fails the run.
// `--keep <dir>` leaves the tarball in <dir> for the consumer fixtures (test/fixtures/run-consumers.mjs).
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
  const run = (bin, args) => execFileSync(join(root, 'node_modules', '.bin', bin), args, { cwd: root, stdio: 'inherit' });
  run('publint', ['run', tarball, '--strict']);
  run('attw', [tarball, '--profile', 'strict']);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
