// Runs the library's own Nest specs against Nest 11: copies the repository (without node_modules and builds) to a
// scratch folder in the OS temp dir, installs it from package-lock.json with @nestjs/* 11.x in place of 12.x, then
// runs tsc and jest there. The peer range `^11 || ^12` claims Nest 11; this is what backs the claim.
//
//   node scripts/test-nest11.mjs [jest path patterns...]   (default: the Nest layer's unit specs and its e2e spec against soketi)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The newest Nest 11 release of each package the repository uses (@nestjs/config 4 is the Nest 11 line). */
const NEST_11 = [
  '@nestjs/common@11.2.10',
  '@nestjs/core@11.2.10',
  '@nestjs/platform-express@11.2.10',
  '@nestjs/platform-fastify@11.2.8',
  '@nestjs/testing@11.2.6',
  '@nestjs/config@4.0.4',
];
const DEFAULT_SPECS = ['test/unit/nest', 'test/e2e/nest.soketi.spec.ts'];

const root = fileURLToPath(new URL('..', import.meta.url));
const specs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : DEFAULT_SPECS;
const scratch = mkdtempSync(join(tmpdir(), 'nest-pusher-nest11-'));
const run = (command, args) =>
  execFileSync(command, args, { cwd: scratch, stdio: 'inherit', env: { ...process.env, CI: 'true' } });
try {
  const skip = /[/\\](node_modules|dist|dist-sample|coverage|\.git|\.tmp)$/;
  cpSync(root, scratch, { recursive: true, filter: (source) => !skip.test(source) });
  run('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    '--loglevel=error',
    '--save-exact',
    ...NEST_11,
  ]);
  run('npm', ['ls', '@nestjs/common', '@nestjs/core']);
  run('npx', ['tsc', '--noEmit']);
  run(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', ...specs]);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
