-- SPDX-License-Identifier: GPL-2.0
-- flamediff.lua - a differential flame graph of two profiles (folded text or pprof files): the frames of the
-- second, red where their share of the samples grew since the first, blue where it shrank.
-- Run: shark samples/flamediff.lua before.folded after.folded -o diff.svg · flamediff.lua a.pb.gz b.pb.gz > d.svg
local stacks = require "shark.stacks"
local pprof = require "shark.pprof"
local flame = require "flame"
local o = shark.getopt{
  about = "A differential flame graph: the second profile's frames coloured by how their share of all samples\n" ..
    "changed from the first (red grew, blue shrank: told apart with common colour-vision deficiencies).\n" ..
    "Each profile: folded stacks (\"a;b;c 12\" lines) or a pprof file (gzipped profile.proto).",
  usage = "[options] BEFORE AFTER", args = { "before", "after" }, min_args = 2,
  examples = { "flamediff.lua before.folded after.folded -o diff.svg", "flamediff.lua old.pb.gz new.pb.gz > diff.svg" },
  { "o", "output", "FILE", "write the SVG to FILE (default stdout)" },
  { nil, "title", "TEXT", "the graph's title", default = "Differential Flame Graph" },
}

-- A profile file as the stacks shape, or exit 1 with what is wrong with it.
local function load(path)
  local f, err = io.open(path, "rb")
  if not f then
    io.stderr:write(("flamediff: %s\n"):format(err))
    shark.exit(1)
  end
  local data = f:read("*a")
  f:close()
  local s
  if data:byte(1) == 0x1f and data:byte(2) == 0x8b then
    s, err = pprof.decode(data)
  else
    s, err = stacks.from_folded(data)
  end
  if not s then
    io.stderr:write(("flamediff: %s: %s\n"):format(path, err))
    shark.exit(1)
  end
  return s
end

local before, after = load(o.before), load(o.after)
local out = require("shark.out").of(o.output)
out:write(flame.diff_svg(before, after, { title = o.title }))
out:finish()
shark.exit(0)
