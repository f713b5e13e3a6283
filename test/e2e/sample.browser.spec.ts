/**
 * The sample app in a real browser: embedded soketi + the sample Nest app (in this process) + headless Chromium.
 * Two people join the presence room and use every part of the page; a refused name sees the refusal.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { freeTcpPort, startSoketi, type EmbeddedSoketi } from '../../sample/embedded-soketi.js';
import { bootstrap, type SampleServer } from '../../sample/main.js';
import type { SampleConfig } from '../../sample/sample.config.js';
import { launchChromium } from '../support/browser.js';

/** How long any one thing may take to show up on a page. */
const WAIT_MS = 8000;

describe('sample app in a browser', () => {
  let soketi: EmbeddedSoketi | undefined;
  let server: SampleServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    const credentials = {
      appId: 'sample-e2e',
      key: `key-${randomBytes(6).toString('hex')}`,
      secret: randomBytes(24).toString('hex'),
    };
    // soketi must know where to send webhooks before it starts, and the app must know soketi's port before it is
    // created: reserve the app's port first.
    const appPort = await freeTcpPort();
    soketi = await startSoketi({ ...credentials, webhookUrl: `http://127.0.0.1:${appPort}/pusher/webhooks` });
    const config: SampleConfig = {
      pusher: {
        ...credentials,
        host: soketi.host,
        port: soketi.port,
        useTLS: false,
        encryptionMasterKeyBase64: randomBytes(32).toString('base64'),
      },
      client: {
        key: credentials.key,
        cluster: 'mt1',
        wsHost: soketi.host,
        wsPort: soketi.port,
        forceTLS: false,
        encryptedRoom: true,
      },
    };
    server = await bootstrap(config, { port: appPort, logger: ['error', 'warn'] });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.app.close();
    await soketi?.stop();
  }, 30_000);

  async function join(name: string): Promise<Page> {
    const context = await (browser as Browser).newContext({ viewport: { width: 1100, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
    await page.goto(`${(server as SampleServer).url}/`);
    await page.fill('#name', name);
    expect(await page.locator('#app').isVisible()).toBe(false);
    if (contexts.length === 1) await screenshot(page, 'join');
    await page.click('#join button[type=submit]');
    return page;
  }

  /** With SAMPLE_SCREENSHOT_DIR set, keeps a picture of the page (for looking at the sample while working on it). */
  async function screenshot(page: Page, name: string): Promise<void> {
    const dir = process.env.SAMPLE_SCREENSHOT_DIR;
    if (dir) await page.screenshot({ path: `${dir}/sample-${name}.png`, fullPage: true });
  }

  /** Waits until some element matching `selector` on `page` contains `text`. */
  async function shows(page: Page, selector: string, text: string | RegExp): Promise<Locator> {
    const locator = page.locator(selector).filter({ hasText: text }).first();
    try {
      await locator.waitFor({ state: 'visible', timeout: WAIT_MS });
    } catch (error) {
      // Say what the page did show, which is what one needs to know when this fails.
      const seen = await page.locator(selector).allTextContents();
      throw new Error(
        `${selector} never showed ${String(text)} within ${WAIT_MS} ms; it showed ${JSON.stringify(seen)}`,
        {
          cause: error,
        },
      );
    }
    return locator;
  }

  it('serves the page, pusher-js and a public config without the secret', async () => {
    const url = (server as SampleServer).url;
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const pusherJs = await fetch(`${url}/vendor/pusher.min.js`);
    expect(pusherJs.status).toBe(200);
    expect((await pusherJs.text()).length).toBeGreaterThan(10_000);
    const config = await (await fetch(`${url}/config.json`)).text();
    expect(config).toContain('"wsPort"');
    expect(config).not.toContain('secret');
  });

  it('two people join and see each other online', async () => {
    alice = await join('Alice');
    await shows(alice, '#members li', 'Alice (you)');
    bob = await join('Bob');
    await shows(bob, '#members li', 'Alice');
    await shows(bob, '#members li', 'Bob (you)');
    await shows(alice, '#members li', 'Bob');
    await expect(alice.locator('#member-count').textContent()).resolves.toBe('2');
    await shows(alice, '#signin', 'signed in as alice');
    await shows(bob, '#signin', 'signed in as bob');
  });

  it('delivers a message to the others, and once to the sender', async () => {
    await alice.fill('#message', 'hello from alice');
    await alice.click('#message-form button');
    await shows(bob, '#messages li', 'hello from alice');
    await shows(alice, '#messages li', 'hello from alice');
    // The server excluded Alice's socket; give a duplicate time to arrive before counting.
    await bob.waitForTimeout(750);
    expect(await alice.locator('#messages li', { hasText: 'hello from alice' }).count()).toBe(1);
    expect(await bob.locator('#messages li', { hasText: 'hello from alice' }).count()).toBe(1);
  });

  it('shows who is typing through client events', async () => {
    await bob.locator('#message').pressSequentially('hi', { delay: 20 });
    await shows(alice, '#typing', 'Bob is typing');
  });

  it('shows activity that arrived as webhooks', async () => {
    await shows(alice, '#activity li', /member_added.*presence-room: bob joined/);
    await shows(alice, '#activity li', /client_event.*client-typing from bob/);
  });

  it('delivers private notifications through sign-in and sendToUser', async () => {
    await alice.locator('#members li', { hasText: 'Bob' }).getByRole('button', { name: 'nudge' }).click();
    await shows(bob, '#notifications li', 'Alice nudged you.');
    expect(await alice.locator('#notifications li', { hasText: 'nudged you' }).count()).toBe(0);
    await bob.click('#notify-me');
    await shows(bob, '#notifications li', 'Hello Bob, this was sent to you alone.');
  });

  it('carries messages in the encrypted room', async () => {
    await bob.fill('#vault-message', 'a secret from bob');
    await bob.click('#vault-form button');
    await shows(alice, '#vault-messages li', 'a secret from bob');
    await shows(bob, '#vault-messages li', 'a secret from bob');
    await screenshot(alice, 'alice');
  });

  it('shows a refused name the refusal, and keeps it out of the room', async () => {
    const mallory = await join('mallory');
    await shows(mallory, '#errors', /Refused.*presence-room.*403/);
    await shows(mallory, '#errors', /Refused.*private-encrypted-vault.*403/);
    await shows(mallory, '#signin', 'sign-in refused');
    expect(await mallory.locator('#members li').count()).toBe(0);
    await alice.waitForTimeout(500);
    expect(await alice.locator('#members li', { hasText: 'mallory' }).count()).toBe(0);
    const post = await mallory.evaluate(async () => {
      const response = await fetch('/chat/messages', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: 'let me in' }),
      });
      return response.status;
    });
    expect(post).toBe(403);
    await screenshot(mallory, 'mallory');
  });

  it('reports a member leaving', async () => {
    await (contexts[1] as BrowserContext).close();
    await shows(alice, '#activity li', /member_removed.*presence-room: bob left/);
    // A string: this file is compiled without the DOM library.
    await alice.waitForFunction("document.getElementById('member-count').textContent === '1'", undefined, {
      timeout: WAIT_MS,
    });
    expect(await alice.locator('#members li', { hasText: 'Bob' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
