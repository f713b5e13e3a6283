/**
 * The real-server fixture: the sample's embedded soketi launcher, with throw-away credentials and test-friendly
 * defaults. Every test file starts its own soketi (free ports, 127.0.0.1) and stops it in `afterAll`.
 */
import { randomBytes } from 'node:crypto';
import { startSoketi, type EmbeddedSoketi, type StartSoketiOptions } from '../../sample/embedded-soketi.js';

export {
  freeTcpPort,
  SOKETI_WEBHOOK_EVENTS,
  startSoketi,
  type EmbeddedSoketi,
  type StartSoketiOptions,
} from '../../sample/embedded-soketi.js';

/** Random credentials of one soketi app. */
export interface SoketiApp {
  appId: string;
  key: string;
  secret: string;
}

export interface TestSoketi extends EmbeddedSoketi {
  readonly app: SoketiApp;
}

export function randomApp(): SoketiApp {
  return {
    appId: `app-${randomBytes(4).toString('hex')}`,
    key: `key-${randomBytes(8).toString('hex')}`,
    secret: randomBytes(16).toString('hex'),
  };
}

/**
 * Starts soketi for one test file. With user authentication on, soketi closes connections that have not signed in
 * after `userAuthenticationTimeoutMs` (its default, 30 s, is the whole jest timeout): raised here so that only the
 * tests about sign-in depend on it.
 */
export async function startTestSoketi(options: Partial<StartSoketiOptions> = {}): Promise<TestSoketi> {
  const app = { ...randomApp(), ...pickApp(options) };
  const soketi = await startSoketi({ userAuthenticationTimeoutMs: 10 * 60_000, ...options, ...app });
  return { ...soketi, app };
}

function pickApp(options: Partial<StartSoketiOptions>): Partial<SoketiApp> {
  const picked: Partial<SoketiApp> = {};
  if (options.appId !== undefined) picked.appId = options.appId;
  if (options.key !== undefined) picked.key = options.key;
  if (options.secret !== undefined) picked.secret = options.secret;
  return picked;
}
