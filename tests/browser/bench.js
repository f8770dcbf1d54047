// SPDX-License-Identifier: GPL-2.0
// bench.js - how long a profile page takes to become interactive in headless
// chromium: navigation to the first flame graph drawn, then one click-to-zoom.
// usage: node bench.js URL_OF_PAGE RUNS -> "load_ms zoom_ms" medians
'use strict';
const { chromium } = require('playwright-core');
const [url, runs] = [process.argv[2], +(process.argv[3] || 5)];

(async () => {
  const dir = require('fs').mkdtempSync('/tmp/shark-chromium-');
  const browser = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] || await browser.newPage();
  const loads = [], zooms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector('#flame .frame', { timeout: 60000 });
    loads.push(Date.now() - t0);
    const t1 = Date.now();
    await page.click('#flame .frame[data-name="main"]');
    await page.$eval('#flame', b => b.childElementCount);
    zooms.push(Date.now() - t1);
  }
  const med = a => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(med(loads) + ' ' + med(zooms));
  await browser.close();
  require('fs').rmSync(dir, { recursive: true, force: true });
})().catch(e => { console.error(e.message); process.exit(1); });
