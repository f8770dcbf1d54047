-- SPDX-License-Identifier: GPL-2.0
-- net_skb_recv.lua - each packet an interface receives (net:netif_receive_skb): device, length, skb.
-- Run: shark samples/net_skb_recv.lua [-i lo] [-j] [-d SECONDS]      (then e.g. ping 127.0.0.1)
local o = shark.getopt{
  about = "Packets received, one line each, sent by a BPF program through a ring buffer.",
  examples = { "net_skb_recv.lua                  # loopback, until Ctrl-C", "net_skb_recv.lua -i eth0 -j -d 5" },
  { "i", "interface", "DEV", "packets of this device only; 'any': every device", default = "lo" },
  "json", "duration",
}
local dev = o.interface == "any" and "" or o.interface

bpf.cdef([[
const volatile char cfg_dev[16] = {};
struct packet { u64 ts; u64 skb; u32 len; char dev[16]; };
SHARK_RINGBUF(packets, struct packet, 1 << 22);

SEC("tracepoint/net/netif_receive_skb")
int on_receive(struct trace_event_raw_net_dev_template *ctx)
{
  struct packet p = { .ts = bpf_ktime_get_ns(), .skb = (u64)ctx->skbaddr, .len = ctx->len };
  bpf_probe_read_kernel_str(p.dev, sizeof(p.dev), (void *)ctx + (ctx->__data_loc_name & 0xffff));
  for (int i = 0; i < 16 && (p.dev[i] || cfg_dev[i]); i++)
    if (cfg_dev[0] && p.dev[i] != cfg_dev[i]) return 0;
  shark_ringbuf_output(packets, &p, sizeof(p));
  return 0;
}
]], { rodata = { cfg_dev = dev } })

local t0 = shark.time()
shark.info(("tracing packets received on %s... Ctrl-C to end"):format(dev ~= "" and dev or "every device"))
local out = require("shark.table").new{ json = o.json,
  { "TIME(s)", "%-12.6f", "time" }, { "DEV", "%-16s", "dev" }, { "LEN", "%8d", "len" }, { "SKB", " %s", "skb" } }
out:header()
local ring = bpf.on_ring("packets", function(p)
  out:row{ time = (tonumber(p.ts) - t0) / 1e9, dev = ffi.string(p.dev), len = p.len, skb = "0x" .. bit.tohex(p.skb) }
end)
shark.on_end(function() shark.info(("%d packets"):format(ring:count())) end)
