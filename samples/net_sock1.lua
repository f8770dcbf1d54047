-- SPDX-License-Identifier: GPL-2.0
-- net_sock1.lua - packets on an interface by IP protocol, counted by a socket filter (SEC("socket")).
-- Run: shark samples/net_sock1.lua [-i lo] [-j] [interval [count]]      (then e.g. ping 127.0.0.1)
local o = shark.getopt{
  about = "Packets seen on an interface (received/sent, since the start) per IP protocol, counted by a BPF\n" ..
    "socket filter on a raw packet socket bound to the interface.",
  examples = { "net_sock1.lua              # loopback, every second", "net_sock1.lua -i eth0 5 3" },
  args = { "[interval]", "[count]" },
  { "i", "interface", "DEV", "the interface; 'any': every one", default = "lo" },
  "json", "duration",
}
local cjson = require "cjson"

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

local PROTOS = { { "TCP", 6 }, { "UDP", 17 }, { "ICMP", 1, 58 } }   -- ICMP and ICMPv6
shark.info(("counting packets on %s... Ctrl-C to end"):format(o.interface))
if not o.json then
  print(("%-10s %12s %12s %12s %12s   (received/sent)"):format("TIME", "TCP", "UDP", "ICMP", "OTHER"))
end
local last -- the row of the last interval is the final one: not again at the end
local function show(n)
  last = o.count and n == o.count
  local m, row, known = obj.maps.protos, {}, {}
  local function dir(sent) -- packets of each named protocol, then the rest
    local counts, other = {}, 0
    for _, p in ipairs(PROTOS) do
      counts[#counts + 1] = m[p[2] + sent] + (p[3] and m[p[3] + sent] or 0)
      known[p[2]], known[p[3] or -1] = true, true
    end
    for k = 0, 255 do if not known[k] then other = other + m[k + sent] end end
    counts[#counts + 1] = other
    return counts
  end
  local rx, tx = dir(0), dir(256)
  if o.json then
    for i, p in ipairs({ "tcp", "udp", "icmp", "other" }) do row[p] = { received = rx[i], sent = tx[i] } end
    row.time = os.date("%H:%M:%S")
    print(cjson.encode(row))
  else
    for i = 1, 4 do row[i] = rx[i] .. "/" .. tx[i] end
    print(("%-10s %12s %12s %12s %12s"):format(os.date("%H:%M:%S"), unpack(row)))
  end
end
shark.every(o.interval or 1, o.count, show)
shark.on_end(function() if not last then show() end end)
