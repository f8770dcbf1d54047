// SPDX-License-Identifier: GPL-2.0
// fleet.js - shark serve's /fleet page in headless chromium (Debian's), driven
// by playwright-core. usage: node fleet.js BASE_URL DATA_JSON SHOT_DIR
// DATA_JSON: {"t0": seconds, "a0": id} - tests/e2e/fleet_view.sh uploaded, for hosts a,
// b and c, a profile a minute from t0 (a0: a's first; main;mid;leaf 10, main;only_HOST k
// with k = 1, 2, 3, main;mid;minute_M 1), and one with a host label of markup.
// Prints "PASS name" / "FAIL name: why" lines; fleet_view.sh makes them TAP.
'use strict';
const { result, check, launch, run } = require('./lib');

const [base, dataJson, shots] = process.argv.slice(2);
const data = JSON.parse(dataJson);

run(async () => {
  const { page, dialogs, errors, shot, end } = await launch({ width: 1400, height: 1000 }, shots, 'fleet-');
  const loads = async () => +(await page.getAttribute('body', 'data-loads') || 0);
  // do something that reloads the page's data, and wait until it has (no
  // waitForFunction: the pages' CSP forbids the eval it needs)
  const reloads = async fn => {
    const n = await loads();
    await fn();
    await page.waitForSelector('body[data-loads="' + (n + 1) + '"]', { timeout: 15000 });
  };
  const totals = () => page.$$eval('#flame .frame', fs => {
    const t = {};
    fs.forEach(f => { t[f.dataset.name] = +f.dataset.total; });
    return t;
  });
  const facet = key => page.$$eval('.facet[data-key="' + key + '"] li', ls => ls.map(l => l.textContent.trim()));

  await page.goto(base + 'fleet');
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
  await check('fleet: the host facet lists a, b, c with their profile counts', async () => {
    const hosts = await facet('host');
    const want = ['a (3)', 'b (3)', 'c (3)'];
    return { ok: want.every(w => hosts.includes(w)), why: JSON.stringify(hosts) };
  });
  await check('fleet: a host label of markup shows as text, nothing runs', async () => {
    const hosts = await facet('host');
    const imgs = await page.$$('#facets img');
    return { ok: hosts.includes('<img src=x onerror=alert(2)> (1)') && imgs.length === 0 && dialogs.length === 0,
      why: JSON.stringify({ hosts, dialogs }) };
  });
  await shot('all');

  await check('fleet: ticking hosts a and b merges their 6 profiles: leaf 60, main 75 samples', async () => {
    await reloads(() => page.check('#facets input[data-key="host"][data-value="a"]'));
    await reloads(() => page.check('#facets input[data-key="host"][data-value="b"]'));
    const t = await totals();
    const info = await page.textContent('#fleet-info');
    const url = page.url();
    return { ok: t.leaf === 60 && t.main === 75 && t.mid === 66 && t.only_a === 3 && t.only_b === 6 &&
      t.only_c === undefined && /host=a&host=b/.test(url) && /6 profiles merged, 75 samples/.test(info),
    why: JSON.stringify({ t, info, url }) };
  });
  await shot('two-hosts');
  await check('fleet: the other hosts keep their counts (a facet ignores its own choice)', async () => {
    const hosts = await facet('host');
    return { ok: hosts.includes('c (3)'), why: JSON.stringify(hosts) };
  });
  await check('fleet: the timeline has a row for a and one for b', async () => {
    const rows = await page.$$eval('#timeline text[text-anchor="end"]', ts => ts.map(t => t.firstChild.nodeValue));
    return { ok: rows.length === 2 && rows.includes('a') && rows.includes('b'), why: JSON.stringify(rows) };
  });

  await check('fleet: brushing the first minute on the timeline merges that minute only', async () => {
    const first = await page.$('#timeline rect.cell[data-t="' + data.t0 + '"]');
    const last = await page.$('#timeline rect.cell[data-t="' + (data.t0 + 59) + '"]');
    if (!first || !last) return { ok: false, why: 'no cells for t0 .. t0+59' };
    const a = await first.boundingBox(), b = await last.boundingBox();
    await reloads(async () => {
      await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
      await page.mouse.down();
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
      await page.mouse.up();
    });
    const t = await totals();
    const url = page.url();
    return { ok: t.leaf === 20 && t.minute_0 === 2 && t.minute_1 === undefined &&
      url.includes('from=' + data.t0) && url.includes('to=' + (data.t0 + 60)), why: JSON.stringify({ t, url }) };
  });
  await shot('range');

  await check('fleet: the selection survives a reload (it is the URL)', async () => {
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    const a = await page.isChecked('#facets input[data-key="host"][data-value="a"]');
    const t = await totals();
    return { ok: a && t.leaf === 20, why: JSON.stringify({ a, t }) };
  });

  await check('fleet: A (first minute) against all times: the diff shows minute_1 grew', async () => {
    await page.click('#keep-a');
    await reloads(() => page.click('#clear-range'));
    const href = await page.getAttribute('#diff-link', 'href');
    await page.goto(base + href.replace(/^\//, ''));
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
    const f = await page.$$eval('#flame .frame', fs => fs.map(x => [x.dataset.name, +x.dataset.delta]));
    const m1 = f.find(x => x[0] === 'minute_1'), m0 = f.find(x => x[0] === 'minute_0');
    const h = await page.textContent('#heading');
    return { ok: m1 && m1[1] > 0 && m0 && m0[1] < 0 && /^diff: A: host=a,b .* → B: host=a,b$/.test(h),
      why: JSON.stringify({ m1, m0, h }) };
  });
  await shot('diff');

  await check('a label on a profile\'s page links to the fleet page selecting it', async () => {
    await page.goto(base + 'p/' + data.a0);
    await page.waitForSelector('body[data-ready="1"]');
    await page.click('#meta a.label >> text=host=a');
    await page.waitForSelector('body[data-loads="1"]', { timeout: 15000 });
    const checked = await page.isChecked('#facets input[data-key="host"][data-value="a"]');
    const t = await totals();
    return { ok: /\/fleet\?host=a$/.test(page.url()) && checked && t.leaf === 30, why: page.url() + ' ' + JSON.stringify(t) };
  });

  result('no script errors', errors.length === 0 && dialogs.length === 0, errors.concat(dialogs).join('; '));
  await end();
});
