-- SPDX-License-Identifier: GPL-2.0
-- net_sock2.lua - packets and bytes per destination IP (v4 and v6) on an interface, from a socket filter
-- with its own flow dissector (VLAN tags, IPv4 options and fragments, IPv6, IP-in-IP).
-- Run: shark samples/net_sock2.lua [-i lo] [-j] [interval [count]]
local o = shark.getopt{
  about = "Packets seen on an interface (both directions, since the start) per destination address.",
  examples = { "net_sock2.lua              # loopback, every second", "net_sock2.lua -i eth0 -j 5" },
  args = { "[interval]", "[count]" },
  "interface", "json", "duration",
}
local inet = require "shark.inet"

local obj = bpf.cdef[[
#define ETH_HLEN 14
enum { P_IP = 0x0800, P_IPV6 = 0x86DD, P_8021Q = 0x8100, P_8021AD = 0x88A8, IPIP = 4, IP6IN = 41 };
struct dest { u32 family; u8 addr[16]; };     /* AF_INET (2): addr[0..3]; AF_INET6 (10) */
struct flow { u64 packets; u64 bytes; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4096);
         __type(key, struct dest); __type(value, struct flow); } dests SEC(".maps");

#define LOAD(off, to, n) bpf_skb_load_bytes(skb, off, to, n)
/* The destination address of an IP packet; false if it is not IP. */
static __always_inline bool dissect(struct __sk_buff *skb, struct dest *d)
{
  u32 nhoff = ETH_HLEN;
  u16 proto;
  u8 next, vhl;
  if (LOAD(12, &proto, 2)) return false;
  for (int i = 0; i < 2 && (bpf_ntohs(proto) == P_8021AD || bpf_ntohs(proto) == P_8021Q); i++, nhoff += 4)
    if (LOAD(nhoff + 2, &proto, 2)) return false;                /* QinQ, then VLAN */
  for (int depth = 0; depth < 2; depth++) {                      /* at most one IP-in-IP tunnel */
    if (bpf_ntohs(proto) == P_IP) {
      u16 frag;
      if (LOAD(nhoff, &vhl, 1) || LOAD(nhoff + 6, &frag, 2) || LOAD(nhoff + 16, d->addr, 4)) return false;
      d->family = 2;     /* AF_INET */
      next = 0;                                                  /* a later fragment has no inner header */
      if (!(bpf_ntohs(frag) & 0x1fff) && LOAD(nhoff + 9, &next, 1)) return false;
      nhoff += (vhl & 0xf) << 2;
    } else if (bpf_ntohs(proto) == P_IPV6) {
      if (LOAD(nhoff + 6, &next, 1) || LOAD(nhoff + 24, d->addr, 16)) return false;
      d->family = 10;    /* AF_INET6 */
      nhoff += 40;
    } else {
      return depth > 0;
    }
    if (next != IPIP && next != IP6IN) break;
    proto = bpf_htons(next == IPIP ? P_IP : P_IPV6);
  }
  return true;
}

SEC("socket")
int count_dest(struct __sk_buff *skb)
{
  struct dest d = {};
  if (!dissect(skb, &d)) return 0;
  struct flow *f = bpf_map_lookup_elem(&dests, &d);
  if (!f) {
    struct flow zero = {};
    bpf_map_update_elem(&dests, &d, &zero, BPF_NOEXIST);
    f = bpf_map_lookup_elem(&dests, &d);
    if (!f) return 0;
  }
  __sync_fetch_and_add(&f->packets, 1);
  __sync_fetch_and_add(&f->bytes, skb->len);
  return 0;
}
]]
obj.progs.count_dest:attach_socket{ interface = o.interface ~= "any" and o.interface or nil }

local out = require("shark.table").new{ json = o.json, { "TIME", "%-10s", "time", text = "" },
  { "DEST", "%-39s", "dest" }, { "PACKETS", "%10d", "packets" }, { "BYTES", "%12d", "bytes" } }
shark.info(("counting packets on %s by destination... Ctrl-C to end"):format(o.interface))
shark.every(o.interval or 1, o.count, function()
  local rows, now = obj.maps.dests:items(), os.date("%H:%M:%S")
  table.sort(rows, function(a, b) return a[2].packets > b[2].packets end)
  if not o.json then print() end
  out:header{ time = now }  -- the time heads the table; its rows leave the column blank
  for _, r in ipairs(rows) do
    out:row{ time = now, dest = inet.ntop(r[1].family, r[1].addr), packets = tonumber(r[2].packets),
      bytes = tonumber(r[2].bytes) }
  end
end, { final = true })
