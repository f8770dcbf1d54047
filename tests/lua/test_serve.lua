-- SPDX-License-Identifier: GPL-2.0
-- shark serve's parts: the upload decoders, the SQLite store (kept across a
-- reopen), the views, --listen parsing and sharkcloud's upload bodies.
local t = require "tap"
local decode = require "shark.serve.decode"
local store = require "shark.serve.store"
local render = require "shark.serve.render"
local serve = require "shark.cmd.serve"
local cjson = require "cjson"

-- ---- folded and timed folded
local p = assert(decode.upload("flamegraph", "main;a;b 3\r\n  main;a 2  \n# note\n\n@1.25 main;c 4\nmain;a;b 1\n"))
t.is(p.samples, 10, "folded: every count adds up (CRLF, blanks, comments)")
t.is(p.stacks["main;a;b"], 4, "folded: a repeated stack adds up")
t.is(#p.timed, 3, "timed line: time, stack, count")
t.is(p.timed[1], 1.25, "... the time in seconds")
local checked = assert(decode.upload("flamegraph", "main;a;b 3\r\n  main;a 2  \n# note\n\n@1.25 main;c 4\n", true))
t.ok(checked.samples == 9 and checked.stacks == nil, "check only: the samples, no tables")
t.is(select(2, decode.upload("flamegraph", "main;;b 2\n", true)), 'line 1: empty frame name: "main;;b 2"',
  "check only: the same message")
local again = assert(decode.upload("flamegraph", decode.encode("flamegraph", p)))
t.is(decode.encode("flamegraph", again), decode.encode("flamegraph", p), "the stored form decodes to the same")
t.is(again.stacks["main;c"], 4, "... timed samples are not counted twice")
local _, err = decode.upload("flamegraph", "main;a 1\nmain;;b 2\n")
t.is(err, 'line 2: empty frame name: "main;;b 2"', "an empty frame: the line and what is wrong")
_, err = decode.upload("flamegraph", "main x\n")
t.is(err, 'line 1: the count is not a whole number: "main x"', "a count that is not a number")
_, err = decode.upload("flamegraph", "main\n")
t.ok(err and err:find("expected 'frame;frame;... count'", 1, true), "no count at all", err)
_, err = decode.upload("flamegraph", "@-1 main 1\n")
t.ok(err and err:find("@SECONDS", 1, true), "a negative time", err)
_, err = decode.upload("flamegraph", "main\1x 1\n")
t.ok(err and err:find("control character", 1, true), "a control character in a name", err)
_, err = decode.upload("flamegraph", "\n# only a comment\n")
t.ok(err and err:find("no samples", 1, true), "nothing but comments", err)
local big = ("x"):rep(3000000) .. " " .. (" "):rep(3000000) .. "y"
_, err = decode.upload("flamegraph", big)
t.ok(err, "a 6 MB line of blanks is refused (and in linear time)")

-- ---- pprof frames named as a traced system likes: written so folded text holds them
local sstacks, spprof = require "shark.stacks", require "shark.pprof"
local odd = sstacks.new{ sample_type = "samples", unit = "count" }
sstacks.add(odd, { sstacks.frame(odd, "bad\tname;x"), sstacks.frame(odd, ""), sstacks.frame(odd, "leaf") }, 5)
local dp = assert(decode.upload("flamegraph", spprof.encode(odd)))
t.is(dp.stacks["bad\\x09name:x;[unknown];leaf"], 5, "pprof: a control character, a ';' and an empty name are " ..
  "written out, not refused")

-- ---- heat-map rows
local h = assert(decode.upload("heatmap", "1000 12\n2000 40 3\n  # c\n"))
t.is(h.samples, 4, "heat-map rows: counts default to 1")
t.is(h.rows[5], 40, "... latency kept")
_, err = decode.upload("heatmap", "1 2 3 4\n")
t.ok(err and err:find("TIME LATENCY", 1, true), "four columns", err)
_, err = decode.upload("heatmap", "1 -2\n")
t.ok(err and err:find("LATENCY", 1, true), "a negative latency", err)
_, err = decode.upload("pie", "x 1")
t.ok(err and err:find("kind", 1, true), "an unknown kind")
_, err = decode.upload("flamegraph", "\31\139broken gzip")
t.ok(err and err:find("pprof", 1, true), "a broken pprof body", err)

-- ---- the store, across a reopen
local path = os.tmpname()
os.remove(path)
local st = assert(store.open(path))
t.is(st:meta("token"), nil, "a new store has no token")
st:meta("token", "abc")
local id = st:add{ kind = "flamegraph", title = "t<1>", labels = '{"host":"a"}', time = 1, samples = 10,
  bytes = 30, data = "main;a;b 3\n" }
t.ok(id and id > 0, "add gives an id")
st:close()
st = assert(store.open(path))
t.is(st:meta("token"), "abc", "the token is kept")
local rows = st:list()
t.is(#rows, 1, "the profile is kept")
t.is(rows[1].title, "t<1>", "... with its title")
t.is(rows[1].data, nil, "the list has no data")
local row = st:get(id)
t.is(row.data, "main;a;b 3\n", "get has the data, byte for byte")
local v = cjson.decode(render.view(row))
t.is(v.folded, "main;a;b 3", "the view: folded lines")
t.is(v.labels.host, "a", "the view: labels as an object")
t.is(render.format(row, "folded"), "main;a;b 3\n", "format=folded")
t.ok(render.format(row, "svg"):find("<svg", 1, true), "format=svg")
local pb = render.format(row, "pprof")
t.is(pb:sub(1, 2), "\31\139", "format=pprof is gzip")
local back = assert(decode.upload("flamegraph", pb))
t.is(back.stacks["main;a;b"], 3, "... and uploads again with the same stack")
t.ok(render.format(row, "speedscope"):find("file-format-schema", 1, true), "format=speedscope")
local none, code = render.format(row, "xml")
t.ok(none == nil and code == 400, "an unknown format: 400")
t.ok(st:delete(id), "delete")
t.is(st:get(id), nil, "... gone")
t.is(st:delete(id), false, "delete twice: nothing to delete")
st:close()
os.remove(path)
os.remove(path .. "-wal")
os.remove(path .. "-shm")
t.ok(not store.open("/nonexistent/dir/x.db"), "a store where no file can be made: nil, message")

-- ---- a selection (shark/serve/query.lua)
local query = require "shark.serve.query"
t.is(query.time("1700000000.5"), 1700000000.5, "time: seconds since the epoch")
t.is(query.time("2023-11-14T22:13:20Z"), 1700000000, "time: ISO 8601 UTC")
t.is(query.time("2024-02-29T00:00:00Z"), 1709164800, "time: a leap day")
t.is(query.time("2023-11-14"), 1699920000, "time: a date alone is its midnight UTC")
t.is(query.time("2023-11-14T22:13:20+02:00"), nil, "time: other zones are refused")
t.is(query.time("-5"), nil, "time: negative seconds are refused")
local f = assert(query.filter(query.pairs("host=a&host=b&label.team=x%20y&from=10&to=20&limit=5")))
t.is(#f.labels, 2, "filter: two labels")
t.ok(f.labels[1][1] == "host" and f.labels[1][2][2] == "b", "filter: a label given twice keeps both values")
t.is(f.labels[2][2][1], "x y", "filter: values are unescaped")
t.ok(f.from == 10 and f.to == 20 and f.limit == 5, "filter: from, to, limit")
local _, why = query.filter(query.pairs("hots=a"))
t.ok(why and why:find("unknown parameter 'hots'", 1, true), "filter: an unknown parameter", why)
_, why = query.filter(query.pairs("from=20&to=10"))
t.ok(why and why:find("must be before", 1, true), "filter: from after to", why)
_, why = query.filter(query.pairs("label.a'b=1"))
t.ok(why and why:find("bad label name", 1, true), "filter: a label name that could break the JSON path", why)
local where, args = query.where(f, "host")
t.ok(not where:find("json_each", 1, true) or #args == 4, "where: a skipped label is left out", where)

-- ---- merged profiles over a store (shark/serve/fleet.lua)
local fleet = require "shark.serve.fleet"
local mpath = os.tmpname()
os.remove(mpath)
st = assert(store.open(mpath))
for i, host in ipairs { "a", "b", "a" } do
  st:add{ kind = "flamegraph", title = host, labels = cjson.encode({ host = host }), time = 100, taken = 100 * i,
    samples = 3, bytes = 1, data = "main;x 2\nmain;" .. host .. " 1\n" }
end
local m = fleet.merge(st, assert(query.filter(query.pairs("host=a"))))
t.ok(m.profiles == 2 and m.stacks["main;x"] == 4 and m.stacks["main;a"] == 2 and not m.stacks["main;b"],
  "merge: the stacks of host a's two profiles summed")
m = fleet.merge(st, assert(query.filter(query.pairs("from=150"))))
t.ok(m.profiles == 2 and m.stacks["main;b"] == 1 and m.taken[1] == 200, "merge: from= by when taken")
local saved = fleet.MAX_STACKS
fleet.MAX_STACKS = 2
m = fleet.merge(st, assert(query.filter({})))
fleet.MAX_STACKS = saved
t.ok(m.stacks[fleet.OTHER] == 1 and m.samples == 9 and m.dropped_stacks == 1,
  "merge: stacks past the bound go to one, samples kept")
local lab = fleet.labels(st, assert(query.filter(query.pairs("host=b"))))
t.ok(lab.total == 1 and #lab.labels.host == 2, "labels: a chosen label still lists its other values")
st:close()
os.remove(mpath)
os.remove(mpath .. "-wal")
os.remove(mpath .. "-shm")

-- ---- --listen
local hst, port = serve.parse_listen("127.0.0.1:7411")
t.ok(hst == "127.0.0.1" and port == 7411, "ADDR:PORT")
hst, port = serve.parse_listen(":0")
t.ok(hst == "127.0.0.1" and port == 0, ":PORT is loopback")
hst, port = serve.parse_listen("[::1]:8080")
t.ok(hst == "::1" and port == 8080, "[v6]:PORT")
t.is(serve.parse_listen("127.0.0.1:99999"), nil, "a port out of range")
t.is(serve.parse_listen("nothing"), nil, "no port")

t.done()
