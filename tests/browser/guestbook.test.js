// tests/browser/guestbook.test.js - the guestbook as a person uses it, in
// headless Chromium (Debian's chromium, driven by playwright-core).
//
// Run by tests/browser.sh, which starts a node with the guestbook deployed
// and passes SOS (the sos command), SOS_HOME, PORT (the gateway's fixed
// port, kept across the restart) and SHOT (where the screenshot goes).
// Loads the page, signs through the form (with JavaScript, then without),
// checks what a visitor typed is shown as text and never as markup, sees
// a friendly error, restarts sosd, and sees the entries and the visit
// counter still there.  Prints one line per check and ends with
// "browser: N passed, N failed".
'use strict';
const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');

const base = `http://127.0.0.1:${process.env.PORT}`;
function sos(...args) {
  try {
    return execFileSync(process.env.SOS, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`sos ${args.join(' ')}: ${e.stderr || e.message}`);
  }
}
let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - ${name}`); return; }
  failed++;
  console.log(`FAIL ${name}${detail !== undefined ? `: ${detail}` : ''}`);
}
const visits = async (page) => Number(await page.textContent('#visits'));

async function run() {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                          args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    let res = await page.goto(base + '/');
    check('the page loads', res.status() === 200, res.status());
    check('its title', (await page.title()) === 'Guestbook', await page.title());
    check('its stylesheet applies', (await page.$eval('button', (b) => getComputedStyle(b).backgroundColor))
      === 'rgb(47, 111, 222)');
    const v1 = await visits(page);
    check('the visit counter shows', v1 >= 1, v1);
    check('an empty guestbook says so', (await page.textContent('#empty')).includes('Be the first'));

    // Sign with JavaScript: the entry goes to the JSON API and appears at once.
    await page.fill('#name', 'Ada Lovelace');
    await page.fill('#message', 'Hello from <b>Chromium</b> & friends');
    check('the message field counts what is left', (await page.textContent('#count')) === '464 left',
      await page.textContent('#count'));
    await page.click('button[type=submit]');
    await page.waitForSelector('#entries li .who');
    check('the entry appears', (await page.textContent('#entries li .who')) === 'Ada Lovelace');
    check('markup typed shows as text', (await page.textContent('#entries li p'))
      === 'Hello from <b>Chromium</b> & friends');
    check('... and is never markup', (await page.$('#entries li p b')) === null);
    check('the form is emptied', (await page.inputValue('#message')) === '');

    // A message of spaces passes the browser's `required` but not the server.
    await page.fill('#message', '    ');
    await page.click('button[type=submit]');
    await page.waitForSelector('.error');
    check('a blank message gets a friendly error', (await page.textContent('.error')) === 'Please write a message.',
      await page.textContent('.error'));

    // Reload: the server renders the entry too (escaped on the server's side).
    await page.reload();
    check('after a reload the entry is listed', (await page.textContent('#entries li .who')) === 'Ada Lovelace');
    check('... still as text', (await page.textContent('#entries li p')) === 'Hello from <b>Chromium</b> & friends');
    const v2 = await visits(page);
    check('each visit counts', v2 === v1 + 1, `${v1} then ${v2}`);

    // Without JavaScript: the plain form posts, the server redirects (303).
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const p2 = await plain.newPage();
    await p2.goto(base + '/');
    await p2.fill('#name', 'Grace');
    await p2.fill('#message', 'Signed without JavaScript');
    await Promise.all([p2.waitForNavigation(), p2.click('button[type=submit]')]);
    check('the form works without JavaScript', (await p2.textContent('#entries li .who')) === 'Grace');
    check('... landing back on /', p2.url() === base + '/', p2.url());
    await plain.close();

    // The JSON API, as a program uses it.
    const api = (method, body) => fetch(base + '/api/entries', { method, body,
      headers: { 'content-type': 'application/json' } });
    let r = await api('POST', 'not json');
    check('API: a body that is not JSON is refused', r.status === 400 &&
      (await r.json()).error.startsWith('Send a JSON object'));
    r = await api('POST', JSON.stringify({ name: 'x'.repeat(41), message: 'hi' }));
    check('API: a name over 40 characters is refused', r.status === 400 &&
      (await r.json()).error === 'Your name is too long: 40 characters at most.');
    r = await api('POST', JSON.stringify({ name: 'Ünïcødé ✓', message: '</script><script>alert(1)</script>' }));
    const made = await r.json();
    check('API: an entry is created (201)', r.status === 201 && made.entry.name === 'Ünïcødé ✓', r.status);
    const raw = await (await fetch(base + '/api/entries')).text();
    check('API: markup leaves the JSON escaped', raw.includes('\\u003c/script\\u003e') && !raw.includes('</script>'));
    r = await api('DELETE');
    check('API: other methods get 405 with Allow', r.status === 405 && r.headers.get('allow') === 'GET, HEAD, POST');
    r = await fetch(base + '/static/nope.css');
    check('a missing file is 404', r.status === 404);
    r = await fetch(base + '/static/app.js');
    check('the script is served as JavaScript', r.status === 200 &&
      r.headers.get('content-type').startsWith('text/javascript'));
    const stats = await (await fetch(base + '/api/stats')).json();
    check('API: stats count the entries', stats.entries === 3, JSON.stringify(stats));

    // Restart sosd: the entries and the counter are in the node's LMDB.
    const before = await visits(page);
    sos('node', 'stop');
    sos('node', 'start', '--http', `127.0.0.1:${process.env.PORT}`);
    res = await page.reload();
    check('the page is back after sosd restarts', res.status() === 200, res.status());
    const names = await page.$$eval('#entries li .who', (els) => els.map((e) => e.textContent));
    check('the entries survived the restart', names.join(',') === 'Ünïcødé ✓,Grace,Ada Lovelace', names.join(','));
    const after = await visits(page);
    // (visits are added without waiting for the disk, so a view may show
    // its predecessor's add not yet committed: at least, never fewer)
    check('the visit counter survived the restart', after >= before + 3, `${before} then ${after}`);
    check('no script error on the page', errors.length === 0, errors.join('; '));
    await page.screenshot({ path: process.env.SHOT, fullPage: true });
    check('a screenshot is saved', true);
  } finally {
    await browser.close();
  }
}

run().catch((e) => check('the browser run', false, e && e.stack)).finally(() => {
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
});
