import { Controller, Get, Header, NotFoundException, Param, StreamableFile } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * `public/` sits next to this file in the source tree; the compiled sample (`dist-sample/`) finds it back in
 * `sample/public`, so there is no copy step.
 */
const publicDir = [join(here, 'public'), join(here, '..', 'sample', 'public')].find((dir) =>
  existsSync(join(dir, 'index.html')),
);

/**
 * pusher-js's browser build, straight from node_modules (no CDN). The "with-encryption" build is the one that can
 * decrypt `private-encrypted-` channels.
 */
const pusherJsPath = createRequire(import.meta.url).resolve('pusher-js/dist/web/pusher-with-encryption.min.js');

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** The page, its two small assets and pusher-js. Files are read once and kept in memory. */
@Controller()
export class PageController {
  private readonly cache = new Map<string, Buffer>();

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  index(): StreamableFile {
    return new StreamableFile(this.file('index.html'));
  }

  @Get('vendor/pusher.min.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  pusherJs(): StreamableFile {
    return new StreamableFile(this.read(pusherJsPath));
  }

  @Get('assets/:file')
  @Header('Cache-Control', 'no-cache')
  asset(@Param('file') file: string): StreamableFile {
    const type = ASSETS[file];
    if (type === undefined) throw new NotFoundException();
    return new StreamableFile(this.file(file), { type });
  }

  private file(name: string): Buffer {
    if (publicDir === undefined) throw new NotFoundException('sample/public was not found');
    return this.read(join(publicDir, name));
  }

  private read(path: string): Buffer {
    let content = this.cache.get(path);
    if (content === undefined) {
      content = readFileSync(path);
      this.cache.set(path, content);
    }
    return content;
  }
}
