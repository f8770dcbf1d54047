-- SPDX-License-Identifier: GPL-2.0
-- shark report [FILE] (default shark.journal) [--sort KEYS] [-f text|csv|json|folded|svg|pprof] [-o OUT]:
-- perf report's summary of a journal: per event, the share of samples
-- (period) of each comm/pid/tid/sym/dso, largest first.
local ffi = require "ffi"
local cjson = require "cjson"
local shark = require "shark"
local getopt = require "shark.getopt"
local journal = require "shark.journal"

local M = {}

local function hex(ip)
  return (require("bit").tohex(ip, 16):gsub("^0+(.)", "%1"))
end

local SORT_KEYS = { comm = true, pid = true, tid = true, sym = true, dso = true }

local spec = {
  name = "shark report",
  usage = "[FILE] [--sort comm,pid,tid,sym,dso] [-f text|csv|json|folded|svg|pprof] [-o OUT]",
  about = "Summarise a journal of shark record: per event, samples and their share of the period, grouped by\n" ..
    "the sort keys, largest first. folded, svg and pprof (go tool pprof) are stack profiles of the\n" ..
    "callchains (or comm;sym), with modules and build-ids in pprof.",
  { "s", "sort", "KEYS", "group by these keys, comma-separated", default = "comm,dso,sym" },
  { "f", "format", "FORMAT", "text, csv, json (lines), folded, svg or pprof (with -o)", default = "text",
    choices = { "text", "csv", "json", "folded", "svg", "pprof" } },
  { "o", "output", "OUT", "write there instead of stdout" },
  { nil, "key", "KEYFILE", "the key of an encrypted journal" },
  { nil, "salvage", nil, "skip damaged chunks instead of stopping" },
  args = { "[FILE]" },
}

local BATCH = 4096
local KERNEL_BASE = 0xffff000000000000ULL

-- Read every sample into agg[event][tid] = { period = {K = p}, count = {K = n} }
-- where K is -stack_key for a callchain, else the ip folded into 49 bits.
local function aggregate(r)
  local batch = ffi.new("struct shark_sample[?]", BATCH)
  local agg, tidpid, rep = {}, {}, {}
  local recs = ffi.new("struct shark_record[?]", BATCH)
  local rings, times = ffi.new("uint32_t[?]", BATCH), ffi.new("double[?]", BATCH)
  local ring_counts = {}
  r.ring_counts = ring_counts
  while true do
    local kind, err = r:next()
    if kind == nil then break end
    if kind == false then return nil, err end
    if kind == "records" then
      while true do
        local n, rerr = r:records(recs, rings, times, BATCH)
        if not n then return nil, rerr end
        if n == 0 then break end
        for i = 0, n - 1 do
          local id = rings[i]
          ring_counts[id] = (ring_counts[id] or 0) + 1
        end
      end
    elseif kind == "samples" then
      while true do
        local n, serr = r:samples(batch, BATCH)
        if not n then return nil, serr end
        if n == 0 then break end
        for i = 0, n - 1 do
          local s = batch[i]
          local ev, tid = s.event, s.tid
          local per = agg[ev]
          if not per then per = {}; agg[ev] = per end
          local u = per[tid]
          if not u then
            u = { period = {}, count = {} }
            per[tid] = u
            tidpid[tid] = s.pid
          end
          local k
          if s.nr_ips > 0 then
            k = -tonumber(s.stack_key)
          else
            local ip = s.ip
            k = ip >= KERNEL_BASE and tonumber(ip - KERNEL_BASE) + 2 ^ 48 or tonumber(ip)
          end
          local c = u.count[k]
          if not c then
            c = 0
            if not rep[k] then
              local t = { pid = s.pid }
              if s.nr_ips > 0 then
                local kernel = true
                for x = 0, s.nr_ips - 1 do
                  local ip = s.ips[x]
                  if ip >= 0xfffffffffffff001ULL then
                    kernel = ip == 0xffffffffffffff80ULL
                  else
                    t[#t + 1] = (kernel and "k" or "u") .. hex(ip)
                  end
                end
              else
                t[1] = (s.ip >= KERNEL_BASE and "k" or "u") .. hex(s.ip)
              end
              rep[k] = t
            end
          end
          u.count[k] = c + 1
          u.period[k] = (u.period[k] or 0) + s.period
        end
      end
    end
  end
  return agg, tidpid, rep
end

-- Names of frames: symbols from the journal, else hex.
local function namer(r)
  local sy = r.symbols or {}
  local ksyms, usyms, maps = sy.ksyms or {}, sy.usyms or {}, sy.maps or {}
  local function dso(pid, frame)
    if frame:sub(1, 1) == "k" then return "[kernel.kallsyms]" end
    local ip = tonumber(frame:sub(2), 16)
    for _, m in ipairs(maps[tostring(pid)] or {}) do
      if ip >= m.start and ip < m["end"] then return m.path:match("[^/]*$") end
    end
    return "[unknown]"
  end
  local function sym(pid, frame)
    local x = frame:sub(2)
    local name
    if frame:sub(1, 1) == "k" then
      name = ksyms[x]
    else
      local t = usyms[tostring(pid)]
      name = t and t[x]
    end
    return name or ("0x" .. x)
  end
  return sym, dso
end

local function comm_of(r, pid)
  local c = r.symbols and r.symbols.comms and r.symbols.comms[tostring(pid)]
  return c or ("pid " .. pid)
end

-- Rows per event, grouped by keys: { event, total_period, total_samples, rows = { {vals, period, samples} } }
local function group(r, agg, tidpid, rep, keys)
  local sym, dso = namer(r)
  local out = {}
  local evs = {}
  for ev in pairs(agg) do evs[#evs + 1] = ev end
  table.sort(evs)
  for _, ev in ipairs(evs) do
    local rows, by, tp, ts = {}, {}, 0, 0
    for tid, u in pairs(agg[ev]) do
      local pid = tidpid[tid]
      for k, n in pairs(u.count) do
        local p = u.period[k]
        local t = rep[k]
        local leaf = t[1] or "u0"
        local vals = {}
        for i, key in ipairs(keys) do
          local v
          if key == "comm" then v = comm_of(r, pid)
          elseif key == "pid" then v = pid
          elseif key == "tid" then v = tid
          elseif key == "sym" then v = (leaf:sub(1, 1) == "k" and "[k] " or "[.] ") .. sym(pid, leaf)
          else v = dso(pid, leaf) end
          vals[i] = v
        end
        local id = table.concat(vals, "\0")
        local row = by[id]
        if not row then
          row = { vals = vals, period = 0, samples = 0 }
          by[id] = row
          rows[#rows + 1] = row
        end
        row.period = row.period + p
        row.samples = row.samples + n
        tp, ts = tp + p, ts + n
      end
    end
    table.sort(rows, function(a, b)
      if a.period ~= b.period then return a.period > b.period end
      return table.concat(a.vals, "\0") < table.concat(b.vals, "\0")
    end)
    local e = r.events[ev]
    out[#out + 1] = { event = e and e.name or ("event " .. ev), period = tp, samples = ts, rows = rows }
  end
  return out
end

local function folded_counts(r, agg, tidpid, rep)
  local sym = namer(r)
  local counts = {}
  for _, per in pairs(agg) do
    for tid, u in pairs(per) do
      local pid = tidpid[tid]
      for k, n in pairs(u.count) do
        local t = rep[k]
        local frames = { (comm_of(r, pid):gsub("[; ]", "_")) }
        for i = #t, 1, -1 do frames[#frames + 1] = (sym(pid, t[i]):gsub(";", ":")) end
        local key = table.concat(frames, ";")
        counts[key] = (counts[key] or 0) + n
      end
    end
  end
  return counts
end

-- The stacks shape (shark/stacks.lua) of the journal, for pprof: comm at the
-- root, then the frames with their module, build-id and address.
local function stacks_shape(r, agg, tidpid, rep)
  local stacks = require "shark.stacks"
  local sym = namer(r)
  local sy = r.symbols or {}
  local maps = sy.maps or {}
  local s = stacks.new({ sample_type = "samples", unit = "count" })
  local function frame(pid, f)
    local kernel = f:sub(1, 1) == "k"
    local addr = tonumber(f:sub(2), 16)
    local fr = { name = sym(pid, f), kernel = kernel, addr = addr }
    if kernel then
      fr.module = "[kernel.kallsyms]"
    else
      for _, m in ipairs(maps[tostring(pid)] or {}) do
        if addr >= m.start and addr < m["end"] then
          fr.module, fr.build_id = m.path, m.build_id
          fr.map = { start = m.start, limit = m["end"], offset = m.pgoff }
          break
        end
      end
    end
    return stacks.frame(s, fr)
  end
  for _, per in pairs(agg) do
    for tid, u in pairs(per) do
      local pid = tidpid[tid]
      for k, n in pairs(u.count) do
        local t = rep[k]
        local ids = { stacks.frame(s, comm_of(r, pid)) }
        for i = #t, 1, -1 do ids[#ids + 1] = frame(pid, t[i]) end
        stacks.add(s, ids, n)
      end
    end
  end
  return s
end

local function fmt_num(v)
  if type(v) == "number" and v == math.floor(v) then return ("%d"):format(v) end
  return tostring(v)
end

local function write_text(f, groups, keys, r)
  local titles = { comm = "Command", pid = "Pid", tid = "Tid", sym = "Symbol", dso = "Shared Object" }
  for gi, g in ipairs(groups) do
    if gi > 1 then f:write("\n") end
    f:write(("# Samples: %d of event '%s'\n# Event count (approx.): %s\n#\n"):format(g.samples, g.event,
      fmt_num(g.period)))
    local widths = {}
    for i, k in ipairs(keys) do
      local w = #titles[k]
      for _, row in ipairs(g.rows) do w = math.max(w, #tostring(row.vals[i])) end
      widths[i] = math.min(w, 60)
    end
    local head, dots = { "# Overhead", "   Samples" }, { "# ........", "   ......." }
    for i, k in ipairs(keys) do
      head[#head + 1] = ("%-" .. widths[i] .. "s"):format(titles[k])
      dots[#dots + 1] = ("%-" .. widths[i] .. "s"):format(("."):rep(#titles[k]))
    end
    f:write(table.concat(head, "  "), "\n", table.concat(dots, "  "), "\n#\n")
    for _, row in ipairs(g.rows) do
      local cells = { ("%9.2f%%"):format(g.period > 0 and 100 * row.period / g.period or 0),
        ("%10d"):format(row.samples) }
      for i = 1, #keys do cells[#cells + 1] = ("%-" .. widths[i] .. "s"):format(tostring(row.vals[i])) end
      f:write((table.concat(cells, "  "):gsub("%s+$", "")), "\n")
    end
  end
  local ids = {}
  for id in pairs(r.ring_counts) do ids[#ids + 1] = id end
  table.sort(ids)
  for _, id in ipairs(ids) do
    local ring = r.rings[id] or {}
    f:write(("%s# Records: %d of BPF ring '%s' (%s, %s bytes)\n"):format(#groups > 0 and "\n" or "",
      r.ring_counts[id], ring.name or id, ring.ctype or "?", ring.size or "?"))
  end
  local fin = r.finish
  if fin and fin.lost and fin.lost > 0 then f:write(("\n# lost: %d samples\n"):format(fin.lost)) end
  if #groups == 0 and #ids == 0 then f:write("# no samples\n") end
end

local function csv_cell(v)
  v = tostring(v)
  if v:find('[,"\n]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

function M.main(args)
  local o = getopt.parse(spec, args)
  local keys = {}
  for k in o.sort:gmatch("[^,%s]+") do
    if not SORT_KEYS[k] then
      io.stderr:write(("shark report: unknown sort key '%s' (keys: comm, pid, tid, sym, dso)\n"):format(k))
      return shark.exit(2)
    end
    keys[#keys + 1] = k
  end
  if #keys == 0 then
    io.stderr:write("shark report: --sort needs at least one key\n")
    return shark.exit(2)
  end
  -- like perf report's perf.data: shark record's default journal
  local r = journal.open_or_exit("shark report", o.args[1] or "shark.journal", o)
  local agg, tidpid, rep = aggregate(r)
  if not agg then
    io.stderr:write("shark report: ", tidpid, "\n")
    return shark.exit(1)
  end
  journal.epilogue("shark report", r)
  local f = io.stdout
  if o.output then
    local err
    f, err = io.open(o.output, "wb")
    if not f then
      io.stderr:write("shark report: cannot write ", err, "\n")
      return shark.exit(1)
    end
  end
  if o.format == "pprof" then
    if f == io.stdout then
      io.stderr:write("shark report: -f pprof writes a binary file: give -o OUT\n")
      return shark.exit(2)
    end
    f:write(require("shark.pprof").encode(stacks_shape(r, agg, tidpid, rep)))
  elseif o.format == "folded" or o.format == "svg" then
    local counts = folded_counts(r, agg, tidpid, rep)
    local flame = require "flame"
    if o.format == "folded" then
      f:write(flame.folded(counts))
    else
      f:write(flame.svg(counts, { title = "shark report " .. r.path }))
    end
  else
    local groups = group(r, agg, tidpid, rep, keys)
    if o.format == "text" then
      write_text(f, groups, keys, r)
    elseif o.format == "csv" then
      f:write("event,overhead,samples,period,", table.concat(keys, ","), "\n")
      for _, g in ipairs(groups) do
        for _, row in ipairs(g.rows) do
          local cells = { csv_cell(g.event), ("%.4f"):format(g.period > 0 and 100 * row.period / g.period or 0),
            row.samples, fmt_num(row.period) }
          for i = 1, #keys do cells[#cells + 1] = csv_cell(row.vals[i]) end
          f:write(table.concat(cells, ","), "\n")
        end
      end
    else
      for _, g in ipairs(groups) do
        for _, row in ipairs(g.rows) do
          local t = { event = g.event, samples = row.samples, period = row.period,
            overhead = g.period > 0 and 100 * row.period / g.period or 0 }
          for i, k in ipairs(keys) do t[k] = row.vals[i] end
          f:write(cjson.encode(t), "\n")
        end
      end
    end
  end
  if f ~= io.stdout then f:close() end
end

return M
