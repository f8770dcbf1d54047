// SPDX-License-Identifier: GPL-2.0
// app.js - the pages of shark serve: the list (/), a profile (/p/ID: flame
// graph, top table, sandwich, sub-second offset heat map; or a latency heat
// map), a diff (/diff?a=ID&b=ID, or of two merged selections: aq=, bq=) and
// the fleet (/fleet, fleet.js). Every traced name goes in as text.
/* global Flame, FleetPage */
'use strict';

(function () {
  var main = document.getElementById('main');
  var params = new URLSearchParams(location.search);

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'on') for (var ev in attrs.on) e.addEventListener(ev, attrs.on[ev]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function setState(changes) {
    for (var k in changes) {
      if (changes[k] === '' || changes[k] === false || changes[k] == null) params.delete(k);
      else params.set(k, changes[k] === true ? '1' : changes[k]);
    }
    var q = params.toString();
    history.replaceState(null, '', location.pathname + (q ? '?' + q : ''));
  }
  function fail(msg) { main.textContent = ''; main.appendChild(el('p', { class: 'error', text: msg })); }
  // "stack count" lines -> [[stack, count], ...]
  function stacksOf(p) {
    if (p.folded === undefined) return p;
    p.stacks = p.folded ? p.folded.split('\n').map(function (l) {
      var at = l.lastIndexOf(' ');
      return [l.slice(0, at), +l.slice(at + 1)];
    }) : [];
    return p;
  }
  function getJSON(url) {
    return fetch(url).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.statusText); return j; });
    });
  }
  function heading(text) { document.getElementById('heading').textContent = text; document.title = text + ' - shark'; }
  // each label a link to the fleet page selecting it
  var SHORT = ['host', 'service', 'comm', 'pid', 'cgroup', 'agent'];
  function labels(obj) {
    return Object.keys(obj || {}).sort().map(function (k) {
      var q = new URLSearchParams();
      q.set(SHORT.indexOf(k) >= 0 ? k : 'label.' + k, String(obj[k]));
      return el('a', { class: 'label', href: '/fleet?' + q, title: 'every profile with ' + k + '=' + obj[k],
        text: k + '=' + obj[k] });
    });
  }

  // ------------------------------------------------------------ the list

  function listPage() {
    heading('profiles');
    var q = el('input', { type: 'search', id: 'q', placeholder: 'filter: title or label=value', value: params.get('q') || '' });
    var diff = el('button', { id: 'diff', text: 'Diff the two checked' });
    var body = el('tbody');
    main.textContent = '';
    main.appendChild(el('div', { class: 'bar' }, [q, diff]));
    main.appendChild(el('table', { class: 'list', id: 'list' }, [el('thead', {}, [el('tr', {}, ['', 'id', 'kind', 'title',
      'labels', 'uploaded', 'samples', 'bytes'].map(function (h) { return el('th', { text: h }); }))]), body]));
    function load() {
      setState({ q: q.value });
      getJSON('/api/profiles' + (q.value ? '?q=' + encodeURIComponent(q.value) : '')).then(function (list) {
        body.textContent = '';
        list.forEach(function (p) {
          body.appendChild(el('tr', { 'data-id': p.id }, [
            el('td', {}, [el('input', { type: 'checkbox', value: p.id })]),
            el('td', { class: 'num', text: String(p.id) }), el('td', { text: p.kind }),
            el('td', {}, [el('a', { href: '/p/' + p.id, text: p.title })]), el('td', {}, labels(p.labels)),
            el('td', { text: new Date(p.time * 1000).toISOString().replace('T', ' ').slice(0, 19) }),
            el('td', { class: 'num', text: String(p.samples) }), el('td', { class: 'num', text: String(p.bytes) })]));
        });
        if (!list.length) body.appendChild(el('tr', {}, [el('td', { colspan: 8, class: 'note', text: 'no profiles' })]));
      }).catch(function (e) { fail(e.message); });
    }
    var timer = null;
    q.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(load, 150); });
    diff.addEventListener('click', function () {
      var ids = Array.from(document.querySelectorAll('#list input:checked')).map(function (c) { return c.value; });
      if (ids.length === 2) location.href = '/diff?a=' + ids[1] + '&b=' + ids[0];
    });
    load();
  }

  // ------------------------------------------------------- a flame graph

  function flameView(box, stacks, opts) {
    var root = Flame.tree(stacks);
    var bar = el('div', { class: 'bar' });
    var search = el('input', { type: 'search', id: 'search', placeholder: 'search frames (text or /regex/)' });
    var matched = el('span', { id: 'matched', class: 'matched' });
    var reset = el('button', { id: 'reset', text: 'Reset zoom' });
    var icicle = el('button', { id: 'icicle', text: 'Icicle' });
    var graphBox = el('div', { id: opts.id || 'flame' });
    [search, matched, reset, icicle].forEach(function (c) { bar.appendChild(c); });
    box.appendChild(bar);
    box.appendChild(graphBox);
    var g = new Flame.Graph(graphBox, root, { icicle: opts.state && params.get('icicle') === '1', diff: opts.diff,
      onState: function (s) {
        matched.textContent = s.matched == null ? '' : 'Matched: ' + s.matched.toFixed(1) + '%';
        icicle.classList.toggle('on', s.icicle);
        if (opts.state) setState({ zoom: s.zoom, search: s.search, icicle: s.icicle });
      } });
    if (opts.state) {
      search.value = params.get('search') || '';
      g.zoomed = Flame.find(root, params.get('zoom') || '');
    }
    g.search(search.value);
    search.addEventListener('input', function () { g.search(search.value); });
    reset.addEventListener('click', function () { g.zoom(null); });
    icicle.addEventListener('click', function () { g.setIcicle(!g.icicle); });
    return g;
  }

  function topTable(box, stacks, total, onPick) {
    var rows = Flame.top(stacks), key = 'self';
    var body = el('tbody');
    var head = el('tr', {}, [el('th', { text: 'function' }), el('th', { class: 'num', text: 'self', 'data-k': 'self' }),
      el('th', { class: 'num', text: 'total', 'data-k': 'total' })]);
    box.appendChild(el('table', { class: 'top', id: 'top' }, [el('thead', {}, [head]), body]));
    function draw() {
      rows.sort(function (a, b) { return b[key] - a[key] || (a.name < b.name ? -1 : 1); });
      body.textContent = '';
      rows.slice(0, 200).forEach(function (r) {
        body.appendChild(el('tr', { class: 'fn', on: { click: function () { onPick(r.name); } } }, [
          el('td', { text: r.name }),
          el('td', { class: 'num', text: r.self + ' (' + Flame.pct(r.self, total) + ')' }),
          el('td', { class: 'num', text: r.total + ' (' + Flame.pct(r.total, total) + ')' })]));
      });
    }
    head.addEventListener('click', function (e) { if (e.target.dataset.k) { key = e.target.dataset.k; draw(); } });
    draw();
  }

  function profileTabs(p) {
    var tabs = el('div', { class: 'bar' }), pane = el('div', { id: 'pane' });
    var views = { flame: 'Flame graph', top: 'Top functions' };
    if (p.timed) views.scope = 'Sub-second heat map';
    main.appendChild(tabs);
    main.appendChild(pane);
    function show(v, fn) {
      setState({ view: v === 'flame' ? '' : v, fn: v === 'sandwich' ? fn : '' });
      Array.from(tabs.children).forEach(function (b) { b.classList.toggle('on', b.dataset.v === v); });
      pane.textContent = '';
      if (v === 'top') {
        topTable(pane, p.stacks, p.samples, function (name) { show('sandwich', name); });
      } else if (v === 'sandwich') {
        var s = Flame.sandwich(p.stacks, fn);
        pane.appendChild(el('h2', { text: 'callers of ' + fn }));
        flameView(pane, s.callers, { id: 'callers' });
        pane.appendChild(el('h2', { text: 'callees of ' + fn }));
        flameView(pane, s.callees, { id: 'callees' });
      } else if (v === 'scope') {
        scopeView(pane, p);
      } else {
        flameView(pane, p.stacks, { state: true });
      }
    }
    Object.keys(views).forEach(function (v) {
      tabs.appendChild(el('button', { 'data-v': v, id: 'tab-' + v, text: views[v], on: { click: function () { show(v); } } }));
    });
    show(params.get('view') || 'flame', params.get('fn'));
  }

  // ------------------------------------------------------------ heat maps

  function heatColour(n, max) {
    if (!n) return '#ffffff';
    var f = Math.log(n + 1) / Math.log(max + 1);
    return 'rgb(' + Math.round(255 - 80 * f) + ',' + Math.round(245 - 225 * f) + ',' + Math.round(230 - 210 * f) + ')';
  }

  // cells: Map "x,y" -> count; draws an SVG grid, returns it. opts: cols, rows,
  // xLabel(i), yLabel(j) (j = 0 at the bottom), tip(i, j, n), onPick(i, j)
  function grid(box, cells, opts) {
    var cw = Math.max(4, Math.min(18, Math.floor(1100 / Math.max(1, opts.cols)))), ch = opts.ch || 14, left = 110;
    var max = 0;
    cells.forEach(function (n) { if (n > max) max = n; });
    var svg = svgEl('svg', { class: 'heat', id: opts.id, width: left + opts.cols * cw + 20, height: opts.rows * ch + 40 });
    for (var j = 0; j < opts.rows; j++) {
      if (opts.rows <= 30 || j % Math.ceil(opts.rows / 25) === 0) {
        var t = svgEl('text', { x: left - 6, y: (opts.rows - j) * ch - 3, 'text-anchor': 'end' });
        t.textContent = opts.yLabel(j);
        svg.appendChild(t);
      }
    }
    for (var i = 0; i < opts.cols; i++) {
      if (i % Math.max(1, Math.ceil(opts.cols / 12)) === 0) {
        var xt = svgEl('text', { x: left + i * cw, y: opts.rows * ch + 16 });
        xt.textContent = opts.xLabel(i);
        svg.appendChild(xt);
      }
      for (j = 0; j < opts.rows; j++) {
        var n = cells.get(i + ',' + j) || 0;
        var r = svgEl('rect', { class: 'cell', x: left + i * cw, y: (opts.rows - 1 - j) * ch, width: cw, height: ch,
          fill: heatColour(n, max), 'data-i': i, 'data-j': j, 'data-n': n });
        svg.appendChild(r);
      }
    }
    svg.addEventListener('mousemove', function (e) {
      var c = e.target;
      if (c.tagName !== 'rect') { Flame.hideTip(); return; }
      Flame.showTip(e, opts.tip(+c.dataset.i, +c.dataset.j, +c.dataset.n));
    });
    svg.addEventListener('mouseleave', Flame.hideTip);
    if (opts.onPick) {
      svg.addEventListener('click', function (e) {
        if (e.target.tagName === 'rect') opts.onPick(+e.target.dataset.i, +e.target.dataset.j, e.target);
      });
    }
    box.appendChild(svg);
    return svg;
  }

  function us(v) {
    if (v >= 1e6) return (v / 1e6).toPrecision(3) + ' s';
    if (v >= 1e3) return (v / 1e3).toPrecision(3) + ' ms';
    return v.toPrecision(3) + ' us';
  }

  // time x log2 latency; rows: [t_us, latency_us, count, ...] after t0
  function latencyView(p) {
    var r = p.rows, tmax = 0, lo = Infinity, hi = -Infinity, cells = new Map();
    function slot(v) { return v < 1 ? 0 : Math.floor(Math.log2(v)) + 1; }
    for (var i = 0; i < r.length; i += 3) {
      tmax = Math.max(tmax, r[i]);
      lo = Math.min(lo, slot(r[i + 1]));
      hi = Math.max(hi, slot(r[i + 1]));
    }
    var step = Math.max(1e6, Math.ceil((tmax + 1) / 200 / 1e6) * 1e6), cols = Math.floor(tmax / step) + 1;
    for (i = 0; i < r.length; i += 3) {
      var k = Math.floor(r[i] / step) + ',' + (slot(r[i + 1]) - lo);
      cells.set(k, (cells.get(k) || 0) + r[i + 2]);
    }
    function range(s) { return s === 0 ? '[0]' : '[' + us(Math.pow(2, s - 1)) + ', ' + us(Math.pow(2, s)) + ')'; }
    main.appendChild(el('p', { class: 'note', text: 'time across (' + step / 1e6 + ' s a column), latency up (log2 ' +
      'buckets); darker: more events. ' + p.samples + ' events.' }));
    grid(main, cells, { id: 'heatmap', cols: cols, rows: hi - lo + 1,
      xLabel: function (i) { return (i * step / 1e6) + 's'; }, yLabel: function (j) { return range(j + lo); },
      tip: function (i, j, n) { return (i * step / 1e6) + 's, ' + range(j + lo) + ': ' + n + ' events'; } });
  }

  // FlameScope: seconds across, the offset within the second up (20 ms
  // rows); two clicks pick a range, whose samples make the flame graph below.
  function scopeView(box, p) {
    var ROWS = 50, t = p.timed, cells = new Map(), tmax = 0;
    for (var i = 0; i < t.length; i += 3) tmax = Math.max(tmax, t[i]);
    function cell(x) { return [Math.floor(x), Math.min(ROWS - 1, Math.floor((x - Math.floor(x)) * ROWS))]; }
    for (i = 0; i < t.length; i += 3) {
      var c = cell(t[i]), k = c[0] + ',' + c[1];
      cells.set(k, (cells.get(k) || 0) + t[i + 2]);
    }
    box.appendChild(el('p', { class: 'note', id: 'scope-help', text: 'Seconds across, offset within the second up ' +
      '(' + 1000 / ROWS + ' ms rows). Click a start cell, then an end cell: the flame graph of that range follows.' }));
    var picked = null, flameBox = el('div', { id: 'scope-flame' });
    var svg = grid(box, cells, { id: 'scope', cols: Math.floor(tmax) + 1, rows: ROWS, ch: 8,
      xLabel: function (i) { return i + 's'; }, yLabel: function (j) { return (j * 1000 / ROWS) + ' ms'; },
      tip: function (i, j, n) { return i + 's + ' + (j * 1000 / ROWS) + ' ms: ' + n + ' samples'; },
      onPick: function (i, j, rect) {
        var at = i + j / ROWS;
        if (picked === null) {
          picked = at;
          Array.from(svg.querySelectorAll('rect.sel')).forEach(function (r) { r.classList.remove('sel'); });
          rect.classList.add('sel');
          return;
        }
        rect.classList.add('sel');
        var a = Math.min(picked, at), b = Math.max(picked, at) + 1 / ROWS;
        picked = null;
        setState({ range: a.toFixed(2) + ',' + b.toFixed(2) });
        showRange(a, b);
      } });
    box.appendChild(flameBox);
    function showRange(a, b) {
      var sums = new Map();
      for (var i = 0; i < t.length; i += 3) {
        if (t[i] >= a && t[i] < b) sums.set(t[i + 1], (sums.get(t[i + 1]) || 0) + t[i + 2]);
      }
      var stacks = [], n = 0;
      sums.forEach(function (c, idx) { stacks.push([p.stacks[idx][0], c]); n += c; });
      flameBox.textContent = '';
      flameBox.appendChild(el('h2', { id: 'range', text: 'from ' + a.toFixed(2) + ' s to ' + b.toFixed(2) + ' s: ' + n +
        ' samples' }));
      if (n) flameView(flameBox, stacks, { id: 'range-flame' });
    }
    var r = (params.get('range') || '').split(',').map(Number);
    if (r.length === 2 && !isNaN(r[0]) && !isNaN(r[1])) showRange(r[0], r[1]);
  }

  // ----------------------------------------------------------------- diff

  function diffPage(a, b) {
    heading('diff: ' + a.title + ' → ' + b.title);
    var ra = Flame.tree(a.stacks), rb = Flame.tree(b.stacks);
    function share(root, node) {
      var n = Flame.find(root, Flame.path(node));
      if (node.parent && n === root) return 0;
      return n.total / (root.total || 1);
    }
    var max = 0;
    (function walk(n) {
      if (n.parent) max = Math.max(max, Math.abs(n.total / rb.total - share(ra, n)));
      n.kids.forEach(walk);
    })(rb);
    main.textContent = '';
    main.appendChild(el('p', { class: 'legend' }, ['The shape is ' + b.title + ' (b); colour is the change of each frame\'s ' +
      'share from ' + a.title + ' (a): ', el('span', { class: 'grew' }), ' grew ', el('span', { class: 'shrank' }),
      ' shrank (blue–orange, safe for colour-blind readers).']));
    var spans = main.querySelectorAll('.legend span');
    spans[0].style.background = Flame.diffColour(1);
    spans[1].style.background = Flame.diffColour(-1);
    flameView(main, b.stacks, { state: true, id: 'flame', diff: function (n) {
      var sa = share(ra, n), sb = n.total / (rb.total || 1), d = max ? (sb - sa) / max : 0;
      return { d: d, text: 'a: ' + (100 * sa).toFixed(2) + '%, b: ' + (100 * sb).toFixed(2) + '% (' +
        (sb >= sa ? '+' : '') + (100 * (sb - sa)).toFixed(2) + ' points)' };
    } });
  }

  // ----------------------------------------------------------------- route

  var m = /^\/p\/(\d+)$/.exec(location.pathname);
  // a diff side: a stored profile (a=ID) or a merged selection (aq=QUERY, at=TITLE)
  function side(k) {
    if (params.has(k + 'q')) {
      var q = new URLSearchParams(params.get(k + 'q'));
      if (params.get(k + 't')) q.set('title', params.get(k + 't'));
      return getJSON('/api/merge?' + q).then(stacksOf);
    }
    return getJSON('/api/profiles/' + encodeURIComponent(params.get(k)) + '?format=json').then(stacksOf);
  }
  if (m) {
    getJSON('/api/profiles/' + m[1] + '?format=json').then(stacksOf).then(function (p) {
      heading(p.title);
      main.textContent = '';
      main.appendChild(el('p', { class: 'note', id: 'meta' }, [p.kind + ', ' + p.samples + ' samples ', ...labels(p.labels),
        ' ', el('a', { href: '/api/profiles/' + p.id + '?format=folded', text: 'folded' }), ' ',
        el('a', { href: '/api/profiles/' + p.id + '?format=svg', text: 'svg' }),
        p.kind === 'flamegraph' ? ' ' : '', p.kind === 'flamegraph' ? el('a', { href: '/api/profiles/' + p.id +
          '?format=pprof', text: 'pprof' }) : null]));
      if (p.kind === 'heatmap') latencyView(p);
      else profileTabs(p);
      document.body.setAttribute('data-ready', '1');
    }).catch(function (e) { fail(e.message); });
  } else if (location.pathname === '/diff') {
    Promise.all([side('a'), side('b')]).then(function (ab) {
      if (ab[0].kind !== 'flamegraph' || ab[1].kind !== 'flamegraph') throw new Error('a diff needs two flame graphs');
      diffPage(ab[0], ab[1]);
      document.body.setAttribute('data-ready', '1');
    }).catch(function (e) { fail(e.message); });
  } else if (location.pathname === '/fleet') {
    FleetPage({ el: el, svgEl: svgEl, params: params, setState: setState, getJSON: getJSON, stacksOf: stacksOf,
      heading: heading, flameView: flameView, heatColour: heatColour, fail: fail });
  } else {
    listPage();
    document.body.setAttribute('data-ready', '1');
  }
})();
