// SPDX-License-Identifier: GPL-2.0
// profiles_check.js FILE PID - what the decoded OTLP profiles requests in
// FILE (receiver.js's OUT.profiles) say about process PID, one "key value"
// line each, for tests/e2e/otlp_profiles.sh to compare:
//   requests N          requests in FILE
//   invalid WHAT        the first thing a v1.5.0 reader could not follow
//                       (an index out of range, a required field missing)
//   host, service, comm the resource of PID's profiles
//   profiles N          PID's profiles
//   leaf.NAME N         samples whose leaf function is NAME
//   build_id.NAME HEX   the build id of the mapping NAME's leaf location is in
//   file.NAME PATH      and that mapping's file
//   period N, period_type T/U, sample_types T/U,...
"use strict";
const fs = require("fs");

const [file, want] = process.argv.slice(2);
const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l);
const facts = [];
const say = (k, v) => facts.push(`${k} ${v}`);
let invalid = null;
const bad = (what) => { invalid = invalid || what; };

function attrs(list) {
  const out = {};
  for (const kv of list || []) {
    const v = kv.value || {};
    out[kv.key] = v.stringValue !== undefined ? v.stringValue : v.intValue;
  }
  return out;
}

function inRange(i, list, what) {
  if (!(Number.isInteger(i) && i >= 0 && i < (list || []).length)) bad(`${what} ${i} out of range`);
  return (list || [])[i] || {};
}

// one profile: every index followed, samples counted by leaf function
function walk(p, counts, where) {
  const str = p.string_table || [];
  const s = (i, what) => { inRange(i || 0, str, what + " strindex"); return str[i || 0]; };
  if (str[0] !== "") bad(where + ": string_table[0] is not \"\"");
  if (!p.profile_id || p.profile_id.length !== 32 || /^0+$/.test(p.profile_id)) bad(where + ": profile_id");
  if (!p.time_nanos || p.time_nanos === "0") bad(where + ": time_nanos");
  const types = (p.sample_type || []).map((t) => `${s(t.type_strindex, "type")}/${s(t.unit_strindex, "unit")}`);
  if (!types.length) bad(where + ": no sample_type");
  const ix = types.indexOf("samples/count");
  const locIx = p.location_indices || [];
  for (const smp of p.sample || []) {
    const start = smp.locations_start_index || 0, n = smp.locations_length || 0;
    if ((smp.value || []).length !== types.length) bad(where + ": a sample's values do not match sample_type");
    if (start + n > locIx.length) bad(where + ": a sample's locations run past location_indices");
    if (!n) continue;
    const leaf = inRange(locIx[start], p.location_table, "location");
    const fn = inRange(((leaf.line || [])[0] || {}).function_index || 0, p.function_table, "function");
    const name = s(fn.name_strindex, "function name");
    counts[name] = (counts[name] || 0) + Number((smp.value || [])[ix] || 0);
    if (leaf.mapping_index !== undefined) {
      const m = inRange(leaf.mapping_index, p.mapping_table, "mapping");
      const a = attrs((m.attribute_indices || []).map((i) => inRange(i, p.attribute_table, "attribute")));
      counts["\0build_id." + name] = a["process.executable.build_id.gnu"] || "none";
      counts["\0file." + name] = s(m.filename_strindex, "mapping file");
    }
  }
  return { types, period: p.period, period_type: p.period_type &&
    `${s(p.period_type.type_strindex, "period type")}/${s(p.period_type.unit_strindex, "period unit")}` };
}

let profiles = 0;
const counts = {};
let last = null, res = null;
for (const line of lines) {
  const req = JSON.parse(line).request;
  for (const rp of req.resource_profiles || []) {
    const a = attrs((rp.resource || {}).attributes);
    for (const sp of rp.scope_profiles || []) {
      if (!sp.scope || !sp.scope.name) bad("a scope without a name");
      for (const p of sp.profiles || []) {
        const mine = {};
        const info = walk(p, mine, `pid ${a["process.pid"]}`);
        if (a["process.pid"] !== want) continue;
        profiles++;
        // a process gone by the flush has no /proc/PID/cgroup left to read
        if (res && res["process.linux.cgroup"] && !a["process.linux.cgroup"]) {
          a["process.linux.cgroup"] = res["process.linux.cgroup"];
        }
        res = a;
        last = info;
        for (const [k, v] of Object.entries(mine)) counts[k] = typeof v === "number" ? (counts[k] || 0) + v : v;
      }
    }
  }
}
say("requests", lines.length);
say("invalid", invalid || "none");
say("profiles", profiles);
if (res) {
  say("host", res["host.name"]);
  say("service", res["service.name"]);
  say("comm", res["process.executable.name"]);
  say("cgroup", res["process.linux.cgroup"] || "none");
  say("sample_types", last.types.join(","));
  say("period", last.period);
  say("period_type", last.period_type);
}
for (const [k, v] of Object.entries(counts)) {
  if (k.startsWith("\0")) say(k.slice(1), v);
  else say("leaf." + k, v);
}
console.log(facts.join("\n"));
