// SPDX-License-Identifier: GPL-2.0
// flame.js - the flame graph of shark serve's viewer: a tree of frames from
// folded stacks, drawn as positioned elements (names only ever go in as
// text), click to zoom, search, tooltips, icicle, and a diff colouring.
'use strict';

var Flame = (function () {
  var ROW = 18;

  // most nodes of a big profile are leaves: they share one empty map
  var NONE = new Map();
  function node(name, parent) {
    return { name: name, total: 0, self: 0, kids: NONE, parent: parent, depth: parent ? parent.depth + 1 : 0 };
  }

  // stacks: [[ "a;b;c", count ], ...] -> the root "all". A stack sharing its
  // first frames with the one before (sorted stacks mostly do) walks down
  // from where they part, not from the root.
  function tree(stacks) {
    var root = node('all', null), prev = [], at = [root];
    for (var i = 0; i < stacks.length; i++) {
      var frames = stacks[i][0].split(';'), c = stacks[i][1], k = 0;
      while (k < frames.length && k < prev.length && frames[k] === prev[k]) k++;
      for (var j = 0; j <= k; j++) at[j].total += c;
      var n = at[k];
      for (j = k; j < frames.length; j++) {
        var kid = n.kids.get(frames[j]);
        if (!kid) {
          kid = node(frames[j], n);
          if (n.kids === NONE) n.kids = new Map();
          n.kids.set(frames[j], kid);
        }
        kid.total += c;
        at[j + 1] = kid;
        n = kid;
      }
      n.self += c;
      prev = frames;
    }
    return root;
  }

  function path(n) {
    var p = [];
    for (; n && n.parent; n = n.parent) p.unshift(n.name);
    return p.join(';');
  }

  function find(root, p) {
    if (!p) return root;
    var n = root, parts = p.split(';');
    for (var i = 0; i < parts.length && n; i++) n = n.kids.get(parts[i]);
    return n || root;
  }

  // The same name, the same warm colour, in every graph.
  function colour(name) {
    var h = 5381;
    for (var i = 0; i < name.length; i++) h = ((h * 33) ^ name.charCodeAt(i)) >>> 0;
    var a = (h % 256) / 255, b = ((h >>> 8) % 256) / 255;
    return 'rgb(' + (205 + Math.round(50 * a)) + ',' + Math.round(230 * b) + ',' + Math.round(55 * (1 - a)) + ')';
  }

  // Diverging blue (shrank) - white - orange (grew): readable with any colour vision.
  function diffColour(d) {
    var t = Math.min(1, Math.abs(d));
    var to = d > 0 ? [230, 97, 1] : [33, 102, 172];
    var c = [0, 1, 2].map(function (i) { return Math.round(247 + (to[i] - 247) * t); });
    return 'rgb(' + c.join(',') + ')';
  }

  function pct(n, total) { return total ? (100 * n / total).toFixed(2) + '%' : '0%'; }

  var tip = null;
  function showTip(e, text) {
    tip = tip || document.getElementById('tip');
    if (!tip) return;
    tip.textContent = text;
    tip.hidden = false;
    tip.style.left = Math.min(e.clientX + 12, window.innerWidth - 320) + 'px';
    tip.style.top = (e.clientY + 14) + 'px';
  }
  function hideTip() { if (tip) tip.hidden = true; }

  // A graph in `box`. opts: unit, icicle, onState(state) when zoom/search
  // change, diff: function(node) -> { d: -1..1, text } for diff colouring.
  function Graph(box, root, opts) {
    this.box = box;
    this.root = root;
    this.opts = opts || {};
    this.zoomed = root;
    this.re = null;
    this.icicle = !!this.opts.icicle;
    this.maxDepth = 0;
    var self = this;
    (function walk(n) {
      if (n.depth > self.maxDepth) self.maxDepth = n.depth;
      n.kids.forEach(walk);
    })(root);
    box.classList.add('flame');
    box.addEventListener('click', function (e) {
      var el = e.target.closest('.frame');
      if (el && el.__node) self.zoom(el.__node);
    });
    box.addEventListener('mousemove', function (e) {
      var el = e.target.closest('.frame');
      if (!el || !el.__node) { hideTip(); return; }
      var n = el.__node, t = n.name + '\n' + n.total + ' ' + (self.opts.unit || 'samples') + ' (' +
        pct(n.total, self.root.total) + '), self ' + n.self;
      if (self.opts.diff) t += '\n' + self.opts.diff(n).text;
      showTip(e, t);
    });
    box.addEventListener('mouseleave', hideTip);
  }

  Graph.prototype.zoom = function (n) {
    this.zoomed = n || this.root;
    this.draw();
    this.state();
  };

  Graph.prototype.setIcicle = function (on) { this.icicle = on; this.draw(); this.state(); };

  Graph.prototype.state = function () {
    if (this.opts.onState) {
      this.opts.onState({ zoom: this.zoomed === this.root ? '' : path(this.zoomed), search: this.term || '',
        icicle: this.icicle, matched: this.matched });
    }
  };

  // Search: a case-insensitive substring, or /regex/. Returns the share matched.
  Graph.prototype.search = function (term) {
    this.term = term || '';
    this.re = null;
    if (this.term) {
      var m = /^\/(.*)\/$/.exec(this.term);
      try {
        this.re = m ? new RegExp(m[1]) : new RegExp(this.term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      } catch (e) {
        this.re = null;
      }
    }
    // the samples under a matching frame, each stack counted once
    var matched = 0, re = this.re;
    if (re) {
      (function walk(n) {
        if (n.parent && re.test(n.name)) { matched += n.total; return; }
        n.kids.forEach(walk);
      })(this.root);
    }
    this.matched = re ? 100 * matched / (this.root.total || 1) : null;
    this.draw();
    this.state();
    return this.matched;
  };

  Graph.prototype.draw = function () {
    var box = this.box, W = box.clientWidth || 1000, z = this.zoomed, total = z.total || 1;
    var depth = this.maxDepth, self = this, frag = document.createDocumentFragment();
    box.textContent = '';
    box.style.height = ((depth + 1) * ROW + 4) + 'px';
    var x0 = 0;
    // where z starts, in samples from the left of its root
    (function () {
      var n = z;
      while (n.parent) {
        var x = 0;
        for (var entry of n.parent.kids) { if (entry[1] === n) break; x += entry[1].total; }
        x0 += x;
        n = n.parent;
      }
    })();
    function y(d) { return self.icicle ? d * ROW : (depth - d) * ROW; }
    function add(n, left, width, dim) {
      var el = document.createElement('div');
      el.className = 'frame' + (dim ? ' dim' : '') + (self.re && n.parent && self.re.test(n.name) ? ' match' : '');
      el.style.left = left + 'px';
      el.style.width = width + 'px';
      el.style.top = y(n.depth) + 'px';
      el.style.background = self.opts.diff ? diffColour(self.opts.diff(n).d) : colour(n.name);
      el.textContent = width > 24 ? n.name : '';
      el.__node = n;
      el.setAttribute('data-name', n.name);
      el.setAttribute('data-total', n.total);
      if (self.opts.diff) el.setAttribute('data-delta', self.opts.diff(n).d.toFixed(3));
      frag.appendChild(el);
    }
    for (var a = z.parent; a; a = a.parent) add(a, 0, W, true);
    (function walk(n, x) {
      var left = (x - x0) / total * W, width = n.total / total * W;
      if (width < 0.5) return;
      add(n, left, width, false);
      var kx = x;
      n.kids.forEach(function (k) { walk(k, kx); kx += k.total; });
    })(z, x0);
    box.appendChild(frag);
  };

  // Per function: self, and total counting each stack once however often it recurses.
  function top(stacks) {
    var fns = new Map();
    function get(name) {
      var f = fns.get(name);
      if (!f) { f = { name: name, self: 0, total: 0 }; fns.set(name, f); }
      return f;
    }
    for (var i = 0; i < stacks.length; i++) {
      var frames = stacks[i][0].split(';'), c = stacks[i][1], seen = new Set();
      get(frames[frames.length - 1]).self += c;
      for (var j = 0; j < frames.length; j++) {
        if (!seen.has(frames[j])) { seen.add(frames[j]); get(frames[j]).total += c; }
      }
    }
    return Array.from(fns.values());
  }

  // Sandwich: the callers of fn (stacks cut at fn, read leaf to root) and its callees.
  function sandwich(stacks, fn) {
    var callers = [], callees = [];
    for (var i = 0; i < stacks.length; i++) {
      var frames = stacks[i][0].split(';'), at = frames.indexOf(fn);
      if (at < 0) continue;
      callers.push([frames.slice(0, at + 1).reverse().join(';'), stacks[i][1]]);
      callees.push([frames.slice(at).join(';'), stacks[i][1]]);
    }
    return { callers: callers, callees: callees };
  }

  return { tree: tree, Graph: Graph, top: top, sandwich: sandwich, colour: colour, diffColour: diffColour,
    pct: pct, showTip: showTip, hideTip: hideTip, find: find, path: path };
})();
