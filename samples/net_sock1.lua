-- SPDX-License-Identifier: GPL-2.0
-- net_sock1.lua - packets on an interface by IP protocol, counted by a socket filter (SEC("socket")).
-- Run: shark samples/net_sock1.lua [-i lo] [-j] [interval [count]]      (then e.g. ping 127.0.0.1)
local o = shark.getopt{
  about = "Packets seen on an interface (received/sent, since the start) per IP protocol, counted by a BPF\n" ..
    "socket filter on a raw packet socket bound to the interface.",
  examples = { "net_sock1.lua              # loopback, every second", "net_sock1.lua -i eth0 5 3" },
  args = { "[interval]", "[count]" },
  "interface", "json", "duration",
}

local obj = bpf.cdef[[
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define PACKET_OUTGOING 4
/* key: IP protocol, + 256 for packets the host sent */
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 512);
         __type(key, u32); __type(value, u64); } protos SEC(".maps");

SEC("socket")
int count_proto(struct __sk_buff *skb)
{
  u8 proto;
  u32 off = skb->protocol == bpf_htons(ETH_P_IP) ? 9 : skb->protocol == bpf_htons(ETH_P_IPV6) ? 6 : 0;
  if (!off || bpf_skb_load_bytes(skb, ETH_HLEN + off, &proto, 1) < 0) return 0;
  u32 key = proto + (skb->pkt_type == PACKET_OUTGOING ? 256 : 0);
  u64 *n = bpf_map_lookup_elem(&protos, &key);
  if (n) __sync_fetch_and_add(n, 1);
  return 0;   /* keep nothing: the socket only counts */
}
]]
obj.progs.count_proto:attach_socket{ interface = o.interface ~= "any" and o.interface or nil }

local PROTO = { [6] = "tcp", [17] = "udp", [1] = "icmp", [58] = "icmp" }   -- ICMP and ICMPv6
local function both(n) return n.received .. "/" .. n.sent end
local out = require("shark.table").new{ json = o.json, { "TIME", "%-10s", "time" },
  { "TCP", "%12s", "tcp", text = both }, { "UDP", "%12s", "udp", text = both },
  { "ICMP", "%12s", "icmp", text = both }, { "OTHER", "%12s", "other", text = both } }
shark.info(("counting packets on %s... Ctrl-C to end"):format(o.interface))
out:header(nil, "   (received/sent)")
shark.every(o.interval or 1, o.count, function()
  local m, row = obj.maps.protos, { time = os.date("%H:%M:%S") }
  for _, name in ipairs{ "tcp", "udp", "icmp", "other" } do row[name] = { received = 0, sent = 0 } end
  for k = 0, 255 do
    local n = row[PROTO[k] or "other"]
    n.received, n.sent = n.received + m[k], n.sent + m[k + 256]
  end
  out:row(row)
end, { final = true })
