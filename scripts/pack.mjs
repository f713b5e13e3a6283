// `npm pack` into a folder (npm runs the `prepare` build first); returns the tarball's absolute path.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Packs the repository into `destination` and returns the path of the `.tgz`. */
export function packTarball(destination) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // npm prints the prepare script's own output before the JSON report.
  const report = JSON.parse(out.slice(out.indexOf('[\n')));
  return join(destination, report[0].filename);
}
