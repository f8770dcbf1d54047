// SPDX-License-Identifier: GPL-2.0
// lib.js - what the viewer's browser tests share: PASS/FAIL lines, checks
// that catch, and Debian's chromium headless on a fresh profile.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

let failed = 0;

function result(name, ok, why) {
  if (ok) console.log('PASS ' + name);
  else { failed++; console.log('FAIL ' + name + ': ' + (why || 'false')); }
}

async function check(name, fn) {
  try {
    const r = await fn();
    result(name, r === true || (r && r.ok), r && r.why);
  } catch (e) {
    result(name, false, String(e && e.message || e).split('\n')[0]);
  }
}

// launch(viewport, shots, prefix): the browser on a new --user-data-dir (playwright
// passes dir as that flag), its page, the dialogs and script errors it saw,
// shot(name) for a screenshot, and end() to close it all and exit.
async function launch(viewport, shots, prefix) {
  const dir = fs.mkdtempSync('/tmp/shark-chromium-');
  const browser = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] || await browser.newPage();
  const dialogs = [], errors = [];
  page.on('dialog', d => { dialogs.push(d.message()); d.dismiss(); });
  page.on('pageerror', e => errors.push(e.message));
  const shot = name => page.screenshot({ path: path.join(shots, prefix + name + '.png'), fullPage: true });
  const end = async () => {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(failed ? 1 : 0);
  };
  return { browser, page, dialogs, errors, shot, end };
}

function run(main) {
  main().catch(e => { console.log('FAIL browser: ' + e.message); process.exit(1); });
}

module.exports = { result, check, launch, run };
