-- SPDX-License-Identifier: GPL-2.0
-- kmem.lua - every kernel memory event (kmem:*: kmalloc, kfree, kmem_cache_*, mm_page_*, ...) as one
-- ftrace-style line.
-- Run: shark samples/kmem.lua -d 1     shark -c 'ls' samples/kmem.lua
local o = shark.getopt{
  about = "Print every kmem:* tracepoint (or the ones -e names) with its fields.",
  examples = { "shark samples/kmem.lua -d 1", "shark -c 'ls /' samples/kmem.lua -e 'kmem:kmalloc,kmem:kfree'" },
  "pid", "duration",
  { "e", "events", "LIST", "these events instead of kmem:*", default = "kmem:*" },
}

perf.on(o.events, { pid = o.pid, ordered = true }, perf.print)
