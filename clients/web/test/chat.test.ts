// The chat in real headless Chromium, served by Mosquitto's http_dir on the
// same websockets listener the page talks MQTT to. Two people (two browser
// contexts: own storage, own tabs) chat; the test follows the ticks, typing,
// a reload and a group. Screenshots go to test-output/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startBroker, type Broker } from '../../ts/test/support/broker.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(root, 'test-output');
const WAIT = 15_000; // WebSocket deliveries are slower than TCP ones; never a timing assertion

let broker: Broker;
let browser: Browser;
const pages: Page[] = [];

before(async () => {
  assert.ok(existsSync(join(dist, 'app.js')), 'dist/app.js is missing: run npm run build first');
  mkdirSync(out, { recursive: true });
  process.env.COURIER_PLUGIN ||= join(root, '../../build/plugin/mosquitto_courier.so');
  broker = await startBroker({ httpDir: dist, options: { admin_users: 'admin' } });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new'],
  });
});

after(async () => {
  // Closing the browser ends its processes; the broker is killed by its pid.
  await browser?.close().catch(() => {});
  await broker?.stop();
});

function admin(command: Record<string, unknown>): void {
  const reply = execFileSync('mosquitto_rr', [
    '-h', '127.0.0.1', '-p', String(broker.tcpPort), '-u', 'admin', '-i', `admin-${process.pid}`,
    '-t', '$CONTROL/courier/v1', '-e', '$CONTROL/courier/v1/response', '-W', '10',
    '-m', JSON.stringify({ commands: [{ ...command, correlationData: '1' }] }),
  ]).toString();
  assert.doesNotMatch(reply, /"error"/, reply);
}

async function signIn(user: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${user}] page error: ${e.message}`));
  pages.push(page);
  await page.goto(`http://127.0.0.1:${broker.wsPort}/`);
  await page.fill('#login [name=user]', user);
  await page.click('#login [type=submit]');
  await connected(page);
  return page;
}

async function connected(page: Page): Promise<void> {
  await page.waitForSelector('#connection[data-connected=true]', { timeout: WAIT });
}

async function openChat(page: Page, kind: 'user' | 'group', name: string): Promise<void> {
  await page.selectOption('#open [name=kind]', kind);
  await page.fill('#open [name=name]', name);
  await page.click('#open [type=submit]');
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#compose [name=text]', text);
  await page.click('#compose [type=submit]');
}

/** The texts of the open conversation, top to bottom. */
function texts(page: Page): Promise<string[]> {
  return page.$$eval('#messages .message .text', (els) => els.map((e) => e.textContent ?? ''));
}

async function waitTexts(page: Page, want: string[]): Promise<void> {
  await page.waitForFunction(
    (w) => JSON.stringify([...document.querySelectorAll('#messages .message .text')].map((e) => e.textContent)) === JSON.stringify(w),
    want, { timeout: WAIT },
  ).catch(async (e) => {
    assert.deepEqual(await texts(page), want, String(e));
  });
}

function row(text: string): string {
  return `#messages .message:has(.text:text-is("${text}"))`;
}

// Records every data-state a row takes, from now on. A string, not a function:
// tsx would add helpers to a function that do not exist in the page.
const WATCH_STATES = `
  window.states = {};
  const note = (li) => {
    const text = li.querySelector('.text')?.textContent ?? '';
    const seen = (window.states[text] ??= []);
    if (li.dataset.state && seen[seen.length - 1] !== li.dataset.state) seen.push(li.dataset.state);
  };
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target instanceof Element ? r.target.closest('.message') : null;
      if (el) note(el);
      r.addedNodes.forEach((n) => n instanceof Element && n.matches('.message') && note(n));
    }
  }).observe(document.getElementById('messages'), { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
`;

async function watchStates(page: Page): Promise<void> {
  await page.evaluate(WATCH_STATES);
}

function states(page: Page, text: string): Promise<string[]> {
  return page.evaluate((t) => (window as unknown as { states: Record<string, string[]> }).states[t] ?? [], text);
}

async function shot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(out, `${name}.png`) });
}

/** Two screenshots side by side, drawn by the browser itself. */
async function sideBySide(left: Buffer, right: Buffer, file: string): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1816, height: 560 } });
  const page = await context.newPage();
  const img = (b: Buffer) => `<img src="data:image/png;base64,${b.toString('base64')}">`;
  await page.setContent(`<body style="margin:0;display:flex;gap:16px;background:#c9ced6">${img(left)}${img(right)}</body>`);
  await page.screenshot({ path: file });
  await context.close();
}

// Headless tabs are always visible; the page only reads document.visibilityState
// and its event, so the test stands in for the browser hiding and showing a tab.
async function setVisible(page: Page, visible: boolean): Promise<void> {
  await page.evaluate(`
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${visible ? 'visible' : 'hidden'}' });
    document.dispatchEvent(new Event('visibilitychange'));
  `);
}

test('the bundle has no Node-only module', () => {
  const js = readFileSync(join(dist, 'app.js'), 'utf8');
  for (const mod of ['fs', 'net', 'tls', 'child_process', 'os', 'path', 'worker_threads']) {
    assert.doesNotMatch(js, new RegExp(`require\\(["'](node:)?${mod}["']\\)`), `app.js requires ${mod}`);
  }
  assert.doesNotMatch(js, /from\s*["']node:/, 'app.js imports a node: module');
  assert.doesNotMatch(js, /require\(["']node:/, 'app.js requires a node: module');
});

test('two people chat in the browser: ticks, typing, reload, group', async (t) => {
  admin({ command: 'createGroup', group: 'team', members: ['alice', 'bob', 'carol'] });
  const alice = await signIn('alice');
  const bob = await signIn('bob');

  await t.test('ticks go sent, delivered, read', async () => {
    // bob looks at another chat: alice's message reaches his device but he has not seen it.
    await openChat(bob, 'user', 'carol');
    await openChat(alice, 'user', 'bob');
    await watchStates(alice);
    await send(alice, 'Hi Bob, lunch at noon?');
    await alice.waitForSelector(`${row('Hi Bob, lunch at noon?')}[data-state=delivered]`, { timeout: WAIT });
    await bob.waitForSelector('#conversations [data-conversation="user:alice"] .unread', { timeout: WAIT });
    // Now bob opens the chat in his visible tab: read.
    await bob.click('#conversations [data-conversation="user:alice"]');
    await alice.waitForSelector(`${row('Hi Bob, lunch at noon?')}[data-state=read]`, { timeout: WAIT });
    const seen = (await states(alice, 'Hi Bob, lunch at noon?')).filter((s) => s !== 'pending');
    assert.deepEqual(seen, ['sent', 'delivered', 'read']);
    assert.equal(await alice.$eval(`${row('Hi Bob, lunch at noon?')} .ticks`, (e) => e.textContent), '✓✓');
  });

  await t.test('bob types, alice sees it', async () => {
    await bob.type('#compose [name=text]', 'Sure');
    await alice.waitForFunction(() => document.getElementById('typing')!.textContent === 'bob is typing…', undefined, { timeout: WAIT });
    await bob.click('#compose [type=submit]');
    await waitTexts(alice, ['Hi Bob, lunch at noon?', 'Sure']);
    await send(alice, 'Great, see you there');
    await alice.waitForSelector(`${row('Great, see you there')}[data-state=read]`, { timeout: WAIT });
    await alice.waitForFunction(() => document.getElementById('typing')!.textContent === '', undefined, { timeout: WAIT });
    await bob.waitForSelector(`${row('Sure')}[data-state=read]`, { timeout: WAIT });
    // The picture for the README: bob typing his next answer.
    await bob.type('#compose [name=text]', 'Perfect');
    await alice.waitForFunction(() => document.getElementById('typing')!.textContent === 'bob is typing…', undefined, { timeout: WAIT });
    await sideBySide(await shot(alice, 'chat-alice'), await shot(bob, 'chat-bob'), join(out, 'screenshot.png'));
    await bob.fill('#compose [name=text]', '');
    if (process.env.COURIER_WEB_SCREENSHOT) copyFileSync(join(out, 'screenshot.png'), join(root, 'screenshot.png'));
  });

  await t.test('a message shown in a hidden tab is read when the tab shows', async () => {
    await setVisible(bob, false);
    await send(alice, 'Table for three?');
    await alice.waitForSelector(`${row('Table for three?')}[data-state=delivered]`, { timeout: WAIT });
    await waitTexts(bob, ['Hi Bob, lunch at noon?', 'Sure', 'Great, see you there', 'Table for three?']);
    await new Promise((r) => setTimeout(r, 500)); // a read receipt would have come by now
    assert.equal(await alice.getAttribute(row('Table for three?'), 'data-state'), 'delivered');
    await setVisible(bob, true);
    await alice.waitForSelector(`${row('Table for three?')}[data-state=read]`, { timeout: WAIT });
  });

  await t.test('a reload catches up the history in order, once', async () => {
    // Sent while bob's page is gone: it comes with the sync after the reload.
    const reloading = bob.reload();
    await send(alice, 'Bring the slides');
    await reloading;
    await connected(bob);
    await bob.waitForSelector('body[data-synced=true]', { timeout: WAIT });
    await openChat(bob, 'user', 'alice');
    const history = ['Hi Bob, lunch at noon?', 'Sure', 'Great, see you there', 'Table for three?', 'Bring the slides'];
    await waitTexts(bob, history);
    const offsets = await bob.$$eval('#messages .message', (els) => els.map((e) => Number((e as HTMLElement).dataset.userOffset)));
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'in conversation order');
    assert.equal(new Set(offsets).size, offsets.length, 'no duplicates');
    // bob's own earlier message keeps its read tick after the reload.
    await bob.waitForSelector(`${row('Sure')}[data-state=read]`, { timeout: WAIT });
    await alice.waitForSelector(`${row('Bring the slides')}[data-state=read]`, { timeout: WAIT });
    await shot(bob, 'reloaded-bob');
  });

  await t.test('a group chat', async () => {
    const carol = await signIn('carol');
    await openChat(alice, 'group', 'team');
    await openChat(carol, 'group', 'team');
    await send(alice, 'Standup in 5 minutes');
    await waitTexts(carol, ['Standup in 5 minutes']);
    assert.equal(await carol.$eval(`${row('Standup in 5 minutes')} .author`, (e) => e.textContent), 'alice');
    // carol read it, bob's device has it: delivered, not yet read.
    await alice.waitForSelector(`${row('Standup in 5 minutes')} .ticks[title*="read by 1 of 2"]`, { timeout: WAIT });
    await alice.waitForSelector(`${row('Standup in 5 minutes')}[data-state=delivered]`, { timeout: WAIT });
    // bob opens the group too: once every member read it, alice's ticks turn read.
    await openChat(bob, 'group', 'team');
    await alice.waitForSelector(`${row('Standup in 5 minutes')}[data-state=read]`, { timeout: WAIT });
    await send(carol, 'On my way');
    await waitTexts(alice, ['Standup in 5 minutes', 'On my way']);
    await waitTexts(bob, ['Standup in 5 minutes', 'On my way']);
    await shot(alice, 'group-alice');
  });

  await t.test('a rejected send is explained', async () => {
    await openChat(alice, 'group', 'nosuchgroup');
    await send(alice, 'anyone?');
    await alice.waitForSelector(`${row('anyone?')}[data-state=failed]`, { timeout: WAIT });
    const words = await alice.textContent('#chat-error');
    assert.match(words ?? '', /there is no such group \(unknown_group\)/);
  });

  await t.test('a lost connection is shown', async () => {
    await broker.stop();
    await alice.waitForSelector('#connection[data-connected=false]', { timeout: WAIT });
    assert.match((await alice.textContent('#connection')) ?? '', /connection lost.*reconnecting/);
    await shot(alice, 'connection-lost');
  });
});
