// SPDX-License-Identifier: GPL-2.0
// fleet.js - the fleet page of shark serve (/fleet): pick labels (host,
// service, comm, pid, cgroup, ...) with their counts, brush a time range on a
// timeline of profile counts per host, see the merged flame graph of the
// selection, and keep one selection as A to diff against another. The
// selection lives in the URL as the query the API takes (host=a&host=b&
// from=T1&to=T2). Every traced name goes in as text.
/* exported FleetPage */
'use strict';

// V: app.js's helpers (el, svgEl, params, setState, getJSON, stacksOf,
// heading, flameView, heatColour, fail).
function FleetPage(V) {
  var main = document.getElementById('main');
  var SHORT = ['host', 'service', 'comm', 'pid', 'cgroup', 'agent'];
  var seq = 0, loads = 0;

  // the selection: labels, from, to (not the flame graph's own state)
  function isSel(k) { return SHORT.indexOf(k) >= 0 || k.indexOf('label.') === 0 || k === 'from' || k === 'to'; }
  function selection(drop) {
    var q = new URLSearchParams();
    V.params.forEach(function (v, k) { if (isSel(k) && (!drop || drop.indexOf(k) < 0)) q.append(k, v); });
    return q;
  }
  function param(key) { return SHORT.indexOf(key) >= 0 ? key : 'label.' + key; }
  function when(t) { return new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19); }
  function describe(q) {
    var parts = [], byk = {};
    q.forEach(function (v, k) {
      if (k === 'from' || k === 'to') return;
      var name = k.replace(/^label\./, '');
      (byk[name] = byk[name] || []).push(v);
    });
    Object.keys(byk).sort().forEach(function (k) { parts.push(k + '=' + byk[k].join(',')); });
    if (q.get('from') || q.get('to')) {
      parts.push((q.get('from') ? when(+q.get('from')) : '…') + ' → ' + (q.get('to') ? when(+q.get('to')) : '…'));
    }
    return parts.length ? parts.join(' ') : 'every profile';
  }
  function toggle(key, value, on) {
    var k = param(key), vals = V.params.getAll(k).filter(function (v) { return v !== value; });
    if (on) vals.push(value);
    V.params.delete(k);
    vals.forEach(function (v) { V.params.append(k, v); });
    V.setState({ zoom: '' });
    load();
  }

  V.heading('profiles of many hosts, merged');
  main.textContent = '';
  var info = V.el('span', { id: 'fleet-info', class: 'note' });
  var keepA = V.el('button', { id: 'keep-a', text: 'Keep as A' });
  var clearRange = V.el('button', { id: 'clear-range', text: 'All times' });
  var diffLink = V.el('a', { id: 'diff-link' });
  var exportLinks = V.el('span', { id: 'exports' });
  main.appendChild(V.el('div', { class: 'bar' }, [info, clearRange, keepA, diffLink, exportLinks]));
  var facets = V.el('div', { id: 'facets', class: 'facets' });
  var right = V.el('div', { class: 'fleet-main' });
  var timeBox = V.el('div', { id: 'timeline-box' });
  var flameBox = V.el('div', { id: 'merged' });
  right.appendChild(timeBox);
  right.appendChild(flameBox);
  main.appendChild(V.el('div', { class: 'fleet' }, [facets, right]));

  clearRange.addEventListener('click', function () { V.setState({ from: '', to: '', zoom: '' }); load(); });
  keepA.addEventListener('click', function () { V.setState({ a: selection().toString() || 'all' }); compare(); });

  function compare() {
    var a = V.params.get('a');
    diffLink.textContent = '';
    if (!a) return;
    var aq = new URLSearchParams(a === 'all' ? '' : a), bq = selection();
    diffLink.textContent = 'Diff A (' + describe(aq) + ') → this';
    diffLink.setAttribute('href', '/diff?aq=' + encodeURIComponent(aq.toString()) + '&at=' +
      encodeURIComponent('A: ' + describe(aq)) + '&bq=' + encodeURIComponent(bq.toString()) + '&bt=' +
      encodeURIComponent('B: ' + describe(bq)));
  }

  // ---- facets: each label with its values and how many profiles have them
  function drawFacets(res) {
    facets.textContent = '';
    var keys = Object.keys(res.labels).sort(function (a, b) {
      var ia = SHORT.indexOf(a), ib = SHORT.indexOf(b);
      if (ia < 0) ia = 99;
      if (ib < 0) ib = 99;
      return ia - ib || (a < b ? -1 : a > b ? 1 : 0);
    });
    keys.forEach(function (key) {
      var chosen = V.params.getAll(param(key));
      var list = V.el('ul', { class: 'values' });
      res.labels[key].forEach(function (vn) {
        var box = V.el('input', { type: 'checkbox', 'data-key': key, 'data-value': vn[0] });
        box.checked = chosen.indexOf(vn[0]) >= 0;
        box.addEventListener('change', function () { toggle(key, vn[0], box.checked); });
        list.appendChild(V.el('li', {}, [V.el('label', {}, [box, ' ' + vn[0] + ' ',
          V.el('span', { class: 'count', text: '(' + vn[1] + ')' })])]));
      });
      // a value chosen that no profile has now: still shown, to be unticked
      chosen.forEach(function (v) {
        if (res.labels[key].some(function (vn) { return vn[0] === v; })) return;
        var box = V.el('input', { type: 'checkbox', 'data-key': key, 'data-value': v });
        box.checked = true;
        box.addEventListener('change', function () { toggle(key, v, box.checked); });
        list.appendChild(V.el('li', {}, [V.el('label', {}, [box, ' ' + v + ' ', V.el('span', { class: 'count', text: '(0)' })])]));
      });
      var more = res.more[key] ? V.el('p', { class: 'note', text: '… and ' + res.more[key] + ' more' }) : null;
      facets.appendChild(V.el('div', { class: 'facet', 'data-key': key }, [V.el('h3', { text: key }), list, more]));
    });
    if (!keys.length) facets.appendChild(V.el('p', { class: 'note', text: 'no labels' }));
  }

  // ---- the timeline: a row per host, a column per time step; drag to pick a range
  function drawTimeline(tl) {
    timeBox.textContent = '';
    if (!tl.total) { timeBox.appendChild(V.el('p', { class: 'note', text: 'no profiles at any time' })); return; }
    var cols = Math.round((tl.to - tl.from) / tl.step), rows = tl.series.length, left = 150, ch = 16;
    var cw = Math.max(3, Math.min(24, Math.floor(900 / Math.max(1, cols)))), cells = new Map(), max = 0;
    tl.series.forEach(function (s, j) {
      for (var i = 0; i < s.counts.length; i += 2) {
        var c = Math.round((s.counts[i] - tl.from) / tl.step);
        cells.set(c + ',' + j, s.counts[i + 1]);
        max = Math.max(max, s.counts[i + 1]);
      }
    });
    var W = left + cols * cw, H = rows * ch;
    var svg = V.svgEl('svg', { id: 'timeline', class: 'heat', width: W + 20, height: H + 24 });
    tl.series.forEach(function (s, j) {
      var t = V.svgEl('text', { x: left - 6, y: j * ch + 12, 'text-anchor': 'end' });
      var name = s.value === false ? '(other)' : s.value == null ? '(no ' + tl.by + ')' : s.value;
      t.textContent = name.length > 22 ? name.slice(0, 21) + '…' : name;
      var full = V.svgEl('title', {});
      full.textContent = name;
      t.appendChild(full);
      svg.appendChild(t);
      for (var i = 0; i < cols; i++) {
        var n = cells.get(i + ',' + j) || 0;
        svg.appendChild(V.svgEl('rect', { class: 'cell', x: left + i * cw, y: j * ch, width: cw, height: ch,
          fill: V.heatColour(n, max), 'data-i': i, 'data-n': n, 'data-t': tl.from + i * tl.step }));
      }
    });
    for (var i = 0; i < cols; i += Math.max(1, Math.ceil(cols / 6))) {
      var xt = V.svgEl('text', { x: left + i * cw, y: H + 16 });
      // the year when the range spans days, else month-day and time
      xt.textContent = tl.step >= 3600 ? when(tl.from + i * tl.step).slice(0, 10) : when(tl.from + i * tl.step).slice(5);
      svg.appendChild(xt);
    }
    var from = +V.params.get('from') || tl.from, to = +V.params.get('to') || tl.to;
    function x(t) { return left + (t - tl.from) / tl.step * cw; }
    var sel = V.svgEl('rect', { id: 'brush', class: 'brush', y: 0, height: H });
    function showSel(a, b) {
      sel.setAttribute('x', Math.max(left, Math.min(x(a), x(b))));
      sel.setAttribute('width', Math.max(0, Math.min(W, Math.abs(x(b) - x(a)))));
    }
    if (V.params.get('from') || V.params.get('to')) showSel(from, to);
    else sel.setAttribute('width', 0);
    svg.appendChild(sel);
    function colAt(e) {
      var r = svg.getBoundingClientRect();
      return Math.max(0, Math.min(cols - 1, Math.floor((e.clientX - r.left - left) / cw)));
    }
    var start = null;
    function up(e) {
      var c2 = colAt(e), a = Math.min(start, c2), b = Math.max(start, c2) + 1;
      start = null;
      V.setState({ from: String(tl.from + a * tl.step), to: String(tl.from + b * tl.step), zoom: '' });
      load();
    }
    svg.addEventListener('mousedown', function (e) {
      start = colAt(e);
      e.preventDefault();
      window.addEventListener('mouseup', up, { once: true });
    });
    svg.addEventListener('mousemove', function (e) {
      if (start === null) {
        var c = e.target;
        if (c.tagName === 'rect' && c.dataset.t) {
          window.Flame.showTip(e, when(+c.dataset.t) + ' +' + tl.step + ' s: ' + c.dataset.n + ' profiles');
        }
        return;
      }
      var c2 = colAt(e);
      showSel(tl.from + Math.min(start, c2) * tl.step, tl.from + (Math.max(start, c2) + 1) * tl.step);
    });
    svg.addEventListener('mouseleave', window.Flame.hideTip);
    timeBox.appendChild(V.el('p', { class: 'note', text: 'Profiles per ' + tl.by + ' over time (' + tl.step +
      ' s a column); drag across to pick a range.' }));
    timeBox.appendChild(svg);
  }

  // ---- the merged flame graph
  function drawMerged(p) {
    flameBox.textContent = '';
    info.textContent = describe(selection()) + ': ' + p.profiles + ' profiles merged' +
      (p.matched > p.profiles ? ' (the newest ' + p.profiles + ' of ' + p.matched + ')' : '') + ', ' + p.samples +
      ' samples';
    exportLinks.textContent = '';
    ['folded', 'pprof', 'svg'].forEach(function (f) {
      var q = selection();
      q.set('format', f);
      exportLinks.appendChild(V.el('a', { href: '/api/merge?' + q.toString(), text: f }));
      exportLinks.appendChild(document.createTextNode(' '));
    });
    if (!p.profiles) { flameBox.appendChild(V.el('p', { class: 'note', id: 'empty', text: 'no flame graph matches' })); return; }
    V.flameView(flameBox, p.stacks, { state: true, id: 'flame' });
  }

  function load() {
    var my = ++seq, q = selection();
    compare();
    Promise.all([V.getJSON('/api/labels?kind=flamegraph&' + q),
      V.getJSON('/api/timeline?kind=flamegraph&by=host&' + selection(['from', 'to'])),
      V.getJSON('/api/merge?' + q).then(V.stacksOf)]).then(function (r) {
      if (my !== seq) return;
      drawFacets(r[0]);
      drawTimeline(r[1]);
      drawMerged(r[2]);
      document.body.setAttribute('data-loads', String(++loads));
      document.body.setAttribute('data-ready', '1');
    }).catch(function (e) { if (my === seq) { V.fail(e.message); document.body.setAttribute('data-ready', '1'); } });
  }
  load();
}
