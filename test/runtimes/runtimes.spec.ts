/**
 * `nest-pusher/core` in every runtime it claims: Node (this process's, 20.19+), Node 22, Deno, Bun and Cloudflare's
 * workerd with nodejs_compat. Each runs test/runtimes/smoke.mjs against the freshly built package as a child
 * process: a trigger to a real soketi (seen by a pusher-js client here), a channel query, auth signatures checked
 * against Pusher's documented vectors and by soketi itself, and webhook verification (good and tampered).
 * The runtimes come from the npm registry, pinned in scripts/runtime-toolchain (`npm ci --prefix scripts/runtime-toolchain`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectClient, disconnectAllClients, EventRecorder, type TestClient } from '../support/pusher-client.js';
import { startTestSoketi, type TestSoketi } from '../support/soketi.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const TOOLCHAIN_BIN = join(HERE, '../../scripts/runtime-toolchain/node_modules/.bin');
const bin = (name: string): string => join(TOOLCHAIN_BIN, name);
const SMOKE_CLI = join(HERE, 'smoke-cli.mjs');

/** Pusher's documented examples (shared protocol notes): what every runtime must compute. */
const DOCS_PRIVATE_AUTH = '278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4';
const DOCS_USER_AUTH = '278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba';
const DOCS_WEBHOOK_PAYLOAD = { time_ms: 1403175510755, events: [{ channel: 'test_channel', name: 'channel_vacated' }] };

/** What smoke.mjs hands back (see there). */
interface SmokeResult {
  runtime: string;
  version: string;
  trigger: { value?: unknown; error?: unknown };
  channelInfo: { value?: unknown; error?: unknown };
  privateAuth: string;
  docsPrivateAuth: string;
  docsUserAuth: string;
  webhookGood: unknown;
  webhookGoodBytes: unknown;
  webhookTampered: unknown;
  webhookStaleByDefault: unknown;
  undiciTransport: string;
}

interface SmokeInput {
  host: string;
  port: number;
  appId: string;
  key: string;
  secret: string;
  channel: string;
  privateChannel: string;
  socketId: string;
  runtime: string;
}

interface Runtime {
  name: string;
  /** Names this runtime's channels. */
  slug: string;
  /** How the runtime names itself in the result. */
  version: RegExp;
  /** The transport the client picks there by default. */
  transport: 'undici' | 'fetch';
  run(input: SmokeInput): Promise<SmokeResult>;
}

const children = new Set<ChildProcess>();
const scratchDirs: string[] = [];

/** Runs a command to its end; rejects with its exit code and last output if it fails. */
function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', (error) => {
      children.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      if (code === 0) resolvePromise(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${output.slice(-3000)}`));
    });
  });
}

/** The last line of `output` that starts with `prefix`, parsed as the smoke result. */
function parseResult(output: string, prefix = ''): SmokeResult {
  const line = output
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith(`${prefix}{`));
  if (line === undefined) throw new Error(`no smoke result in the runtime's output:\n${output.slice(-3000)}`);
  return JSON.parse(line.slice(prefix.length)) as SmokeResult;
}

/** Node, Deno and Bun run smoke-cli.mjs directly: the input in an environment variable, the result on stdout. */
const cliRuntime = (
  name: string,
  slug: string,
  version: RegExp,
  transport: Runtime['transport'],
  command: () => [string, string[]],
  env: Record<string, string> = {},
): Runtime => ({
  name,
  slug,
  version,
  transport,
  async run(input) {
    const [executable, args] = command();
    return parseResult(await run(executable, args, { env: { ...env, SMOKE_INPUT: JSON.stringify(input) } }));
  },
});

/**
 * workerd runs a bundle, as wrangler deploys one: esbuild with the Workers conditions and `node:*` left to
 * nodejs_compat. `workerd test` calls the worker's `test` handler once and exits; outbound fetch may reach loopback.
 */
const workerdRuntime: Runtime = {
  name: 'workerd',
  slug: 'workerd',
  version: /^Cloudflare-Workers$/,
  transport: 'fetch',
  async run(input) {
    const dir = await mkdtemp(join(tmpdir(), 'nest-pusher-workerd-'));
    scratchDirs.push(dir);
    await run(bin('esbuild'), [
      join(HERE, 'smoke-worker.mjs'),
      '--bundle',
      '--format=esm',
      '--platform=neutral',
      '--conditions=workerd,worker,browser',
      '--main-fields=browser,module,main',
      '--external:node:*',
      '--log-level=warning',
      `--outfile=${join(dir, 'worker.mjs')}`,
    ]);
    const config = [
      'using Workerd = import "/workerd/workerd.capnp";',
      'const config :Workerd.Config = (',
      '  services = [',
      '    (name = "main", worker = .smoke),',
      '    (name = "internet", network = (allow = ["public", "private", "local"])),',
      '  ],',
      ');',
      'const smoke :Workerd.Worker = (',
      '  modules = [ (name = "worker.mjs", esModule = embed "worker.mjs") ],',
      '  compatibilityDate = "2026-07-01",',
      '  compatibilityFlags = ["nodejs_compat"],',
      `  bindings = [ (name = "SMOKE_INPUT", text = ${JSON.stringify(JSON.stringify(input))}) ],`,
      ');',
      '',
    ].join('\n');
    await writeFile(join(dir, 'config.capnp'), config);
    return parseResult(await run(bin('workerd'), ['test', join(dir, 'config.capnp')]), 'SMOKE_RESULT ');
  },
};

const RUNTIMES: Runtime[] = [
  cliRuntime(`node ${process.version} (this process)`, 'node', /^node v/, 'undici', () => [
    process.execPath,
    [SMOKE_CLI],
  ]),
  cliRuntime('node 22', 'node22', /^node v22\./, 'undici', () => [bin('node'), [SMOKE_CLI]]),
  cliRuntime(
    'deno',
    'deno',
    /^deno \d/,
    'undici',
    () => [
      bin('deno'),
      ['run', '--no-prompt', '--allow-net=127.0.0.1', '--allow-env', `--allow-read=${ROOT}`, SMOKE_CLI],
    ],
    { DENO_NO_UPDATE_CHECK: '1' },
  ),
  cliRuntime('bun', 'bun', /^bun \d/, 'fetch', () => [bin('bun'), ['--no-install', SMOKE_CLI]], { DO_NOT_TRACK: '1' }),
  workerdRuntime,
];

let soketi: TestSoketi;

beforeAll(async () => {
  const missing = ['node', 'deno', 'bun', 'esbuild', 'workerd'].filter((name) => !existsSync(bin(name)));
  if (missing.length > 0) {
    throw new Error(
      `The runtimes are not installed (${missing.join(', ')} missing): run npm ci --prefix scripts/runtime-toolchain (npm test does it through pretest)`,
    );
  }
  // The smoke script imports `nest-pusher/core` by name: this package as `npm run build` makes it.
  await run('npm', ['run', 'build', '--silent']);
  soketi = await startTestSoketi();
}, 180_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await disconnectAllClients();
  await soketi?.stop();
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe.each(RUNTIMES)('nest-pusher/core on $name', (runtime) => {
  let client: TestClient;
  let result: SmokeResult;
  const slug = runtime.slug;
  const channel = `smoke-${slug}`;
  const privateChannel = `private-smoke-${slug}`;
  const events = new EventRecorder<unknown>(`the smoke event on ${channel}`);

  beforeAll(async () => {
    let authFromRuntime: string | undefined;
    client = await connectClient(
      { host: soketi.host, port: soketi.port, key: soketi.app.key },
      {
        // soketi judges the signature the runtime computed for this very connection.
        channelAuthorizer: (_params, callback) =>
          authFromRuntime === undefined
            ? callback(new Error('no auth from the runtime yet'), null)
            : callback(null, { auth: authFromRuntime }),
      },
    );
    const subscribed = await client.subscribe(channel);
    subscribed.bind('smoke', (data: unknown) => events.push(data));
    result = await runtime.run({
      host: soketi.host,
      port: soketi.port,
      ...soketi.app,
      channel,
      privateChannel,
      socketId: client.socketId,
      runtime: slug,
    });
    authFromRuntime = result.privateAuth;
  }, 120_000);

  afterAll(async () => {
    await client?.disconnect();
  });

  it('is the runtime it claims to be', () => {
    expect(result.version).toMatch(runtime.version);
  });

  it('triggers an event that a subscribed pusher-js client receives', async () => {
    expect(result.trigger).toEqual({ value: { ok: true } }); // soketi's success body
    expect(await events.next()).toEqual({ runtime: slug });
  });

  it('queries the channel (a signed GET)', () => {
    expect(result.channelInfo).toEqual({ value: expect.objectContaining({ occupied: true }) });
  });

  it("computes Pusher's documented channel and user auth signatures", () => {
    expect(result.docsPrivateAuth).toBe(DOCS_PRIVATE_AUTH);
    expect(result.docsUserAuth).toBe(DOCS_USER_AUTH);
  });

  it('computes a private-channel auth that soketi accepts', async () => {
    await expect(client.subscribe(privateChannel)).resolves.toBeDefined();
  });

  it('verifies a signed webhook (string and bytes) and refuses a tampered one', () => {
    expect(result.webhookGood).toEqual(DOCS_WEBHOOK_PAYLOAD);
    expect(result.webhookGoodBytes).toEqual(DOCS_WEBHOOK_PAYLOAD);
    expect(result.webhookTampered).toBeNull();
    expect(result.webhookStaleByDefault).toBeNull();
  });

  it(`uses the ${runtime.transport} transport by default`, () => {
    if (runtime.transport === 'undici') expect(result.undiciTransport).toBe('usable');
    else expect(result.undiciTransport).toMatch(/^refused: UndiciTransport cannot run here: .*Use FetchTransport/);
  });
});
