// SPDX-License-Identifier: GPL-2.0
// viewer.js - shark serve's pages in headless chromium (Debian's), driven by
// playwright-core. usage: node viewer.js BASE_URL IDS_JSON SHOT_DIR
// IDS_JSON: {"flame": id, "heat": id, "timed": id, "a": id, "b": id, "xss": id}
// Prints "PASS name" / "FAIL name: why" lines; tests/e2e/serve.sh turns them into TAP.
'use strict';
const { result, check, launch, run } = require('./lib');

const [base, idsJson, shots] = process.argv.slice(2);
const ids = JSON.parse(idsJson);

run(async () => {
  const { page, dialogs, errors, shot, end } = await launch({ width: 1280, height: 900 }, shots, 'serve-');
  const open = async url => {
    await page.goto(base + url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
  };

  // ---- the list
  await open('');
  await page.waitForSelector('#list tbody tr[data-id]');
  await check('list: every uploaded profile is listed', async () => {
    const shown = await page.$$eval('#list tbody tr[data-id]', rs => rs.map(r => +r.dataset.id));
    const want = [ids.flame, ids.timed, ids.heat, ids.a, ids.b, ids.xss];
    const missing = want.filter(i => !shown.includes(i));
    return { ok: missing.length === 0, why: 'missing ' + missing.join(',') };
  });
  await shot('list');
  await check('list: the filter keeps the profiles whose labels match', async () => {
    await page.fill('#q', 'tool=profile');
    let shown = [];
    // no waitForFunction: the pages' CSP (rightly) forbids the eval it needs
    for (let i = 0; i < 50; i++) {
      await page.waitForTimeout(100);
      shown = await page.$$eval('#list tbody tr[data-id]', rs => rs.map(r => +r.dataset.id));
      if (!shown.includes(ids.heat) && page.url().includes('q=tool')) break;
    }
    return { ok: shown.includes(ids.flame) && !shown.includes(ids.heat), why: 'shown ' + shown.join(',') };
  });

  // ---- the flame graph of a real profile run
  await open('p/' + ids.flame);
  await check('flame graph: the known frames main, mid, leaf are drawn', async () => {
    const names = await page.$$eval('#flame .frame', fs => fs.map(f => f.dataset.name));
    const miss = ['main', 'mid', 'leaf'].filter(n => !names.includes(n));
    return { ok: miss.length === 0, why: 'missing ' + miss.join(',') + ' in ' + names.slice(0, 20).join(',') };
  });
  await shot('flame');
  await check('flame graph: hovering a frame shows its samples and percentage', async () => {
    await page.hover('#flame .frame[data-name="mid"]');
    const tip = await page.textContent('#tip');
    return { ok: /^mid\n\d+ samples \(\d+\.\d\d%\)/.test(tip), why: JSON.stringify(tip) };
  });
  await check('flame graph: clicking mid zooms (mid spans the width, zoom in the URL)', async () => {
    const W = await page.$eval('#flame', b => b.clientWidth);
    await page.click('#flame .frame[data-name="mid"]');
    const w = await page.$eval('#flame .frame[data-name="mid"]:not(.dim)', f => f.getBoundingClientRect().width);
    const url = page.url();
    return { ok: Math.abs(w - W) < 2 && /zoom=[^&]*mid/.test(url), why: 'width ' + w + ' of ' + W + ', ' + url };
  });
  await shot('flame-zoomed');
  await check('flame graph: the zoom survives a reload (state in the URL)', async () => {
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    const W = await page.$eval('#flame', b => b.clientWidth);
    const w = await page.$eval('#flame .frame[data-name="mid"]:not(.dim)', f => f.getBoundingClientRect().width);
    return { ok: Math.abs(w - W) < 2, why: 'width ' + w + ' of ' + W };
  });
  await check('flame graph: reset zoom', async () => {
    await page.click('#reset');
    return { ok: !/zoom=/.test(page.url()), why: page.url() };
  });
  await check('flame graph: search highlights leaf and shows the matched percentage', async () => {
    await page.fill('#search', 'leaf');
    const n = await page.$$eval('#flame .frame.match', fs => fs.filter(f => f.dataset.name === 'leaf').length);
    const other = await page.$$eval('#flame .frame.match', fs => fs.filter(f => f.dataset.name !== 'leaf').length);
    const m = await page.textContent('#matched');
    return { ok: n > 0 && other === 0 && /^Matched: \d+\.\d%$/.test(m) && parseFloat(m.slice(9)) > 0,
      why: n + ' matches, ' + other + ' wrong, ' + JSON.stringify(m) };
  });
  await shot('flame-search');
  await check('flame graph: icicle turns it upside down', async () => {
    const before = await page.$eval('#flame .frame[data-name="all"]', f => f.offsetTop);
    await page.click('#icicle');
    const after = await page.$eval('#flame .frame[data-name="all"]', f => f.offsetTop);
    return { ok: before > 0 && after === 0, why: before + ' -> ' + after };
  });
  await check('top table: leaf has self samples; clicking it gives its callers and callees', async () => {
    await page.click('#tab-top');
    const row = await page.$$eval('#top tbody tr', rs => rs.map(r => Array.from(r.cells).map(c => c.textContent))
      .find(c => c[0] === 'leaf'));
    if (!row || !/^[1-9]\d* \(/.test(row[1])) return { ok: false, why: 'row ' + JSON.stringify(row) };
    await shot('top');
    await page.click('#top tbody tr >> text=leaf');
    const callers = await page.$$eval('#callers .frame', fs => fs.map(f => f.dataset.name));
    const callees = await page.$$eval('#callees .frame', fs => fs.map(f => f.dataset.name));
    await shot('sandwich');
    return { ok: callers.includes('mid') && callers.includes('main') && callees.includes('leaf') &&
      !callees.includes('mid'), why: 'callers ' + callers + ' callees ' + callees };
  });

  // ---- the latency heat map of a real run
  await open('p/' + ids.heat);
  await check('heat map: cells are drawn, some with events', async () => {
    const cells = await page.$$eval('#heatmap rect.cell', rs => rs.map(r => +r.dataset.n));
    const sum = cells.reduce((a, b) => a + b, 0);
    return { ok: cells.length > 0 && sum === ids.heatEvents, why: cells.length + ' cells, ' + sum + ' events' };
  });
  await check('heat map: hovering a cell shows its count', async () => {
    await page.hover('#heatmap rect.cell:not([data-n="0"])');
    const tip = await page.textContent('#tip');
    return { ok: /: [1-9]\d* events$/.test(tip), why: JSON.stringify(tip) };
  });
  await shot('heatmap');

  // ---- sub-second offset heat map of a timed profile
  await open('p/' + ids.timed + '?view=scope');
  await check('sub-second heat map: selecting a range gives the flame graph of that range', async () => {
    const cells = await page.$$('#scope rect.cell:not([data-n="0"])');
    if (cells.length < 2) return { ok: false, why: cells.length + ' cells with samples' };
    await cells[0].click();
    await cells[cells.length - 1].click();
    await page.waitForSelector('#range-flame .frame');
    const names = await page.$$eval('#range-flame .frame', fs => fs.map(f => f.dataset.name));
    const h = await page.textContent('#range');
    return { ok: names.includes('leaf') && /: [1-9]\d* samples$/.test(h) && /range=/.test(page.url()),
      why: h + ' ' + names.join(',') };
  });
  await shot('scope');

  // ---- the diff
  await open('diff?a=' + ids.a + '&b=' + ids.b);
  await check('diff: grown frames are orange, shrunk ones blue', async () => {
    const f = await page.$$eval('#flame .frame', fs => fs.map(x => [x.dataset.name, +x.dataset.delta,
      getComputedStyle(x).backgroundColor]));
    const baz = f.find(x => x[0] === 'baz'), bar = f.find(x => x[0] === 'bar');
    const rgb = s => s.match(/\d+/g).map(Number);
    const ok = baz && bar && baz[1] > 0 && bar[1] < 0 && rgb(baz[2])[0] > rgb(baz[2])[2] &&
      rgb(bar[2])[2] > rgb(bar[2])[0];
    return { ok: ok, why: JSON.stringify([baz, bar]) };
  });
  await shot('diff');

  // ---- traced names are text
  await open('p/' + ids.xss);
  await check('a frame named <script>alert(1)</script> shows as text and never runs', async () => {
    const t = await page.$$eval('#flame .frame', fs => fs.map(f => f.textContent));
    const scripts = await page.$$eval('script', s => s.map(x => x.src || 'inline'));
    return { ok: t.includes('<script>alert(1)</script>') && dialogs.length === 0 &&
      scripts.every(s => s.startsWith(base)), why: JSON.stringify({ t, dialogs, scripts }) };
  });
  await open('');
  await check('a title with markup shows as text in the list and nothing runs', async () => {
    const titles = await page.$$eval('#list tbody tr td a', as => as.map(a => a.textContent));
    const imgs = await page.$$('#list img');
    return { ok: titles.includes('<img src=x onerror=alert(2)>') && imgs.length === 0 && dialogs.length === 0,
      why: JSON.stringify(titles) };
  });
  await shot('xss');
  result('no script errors in any page', errors.length === 0, errors.join('; '));
  await end();
});
