-- SPDX-License-Identifier: GPL-2.0
-- The agent's queue with OTLP/gRPC answers: what the OTLP specification
-- retries (CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE,
-- DATA_LOSS; RESOURCE_EXHAUSTED only with RetryInfo), RetryInfo's delay, what
-- is dropped and counted; and the config's rules for a gRPC endpoint. The
-- real calls to a gRPC server are in tests/e2e/otlp_grpc.sh.
local t = require "tap"
local push = require "shark.agent.push"
local config = require "shark.agent.config"

-- a closed queue sends nothing: each answer is given by hand
local function queue()
  local logs = {}
  local p = push.new { name = "otlp", url = "http://127.0.0.1:4317/x.S/Export", grpc = true,
    log = function(fmt, ...) logs[#logs + 1] = fmt:format(...) end }
  p.closed = true
  p:enqueue("body", "application/x-protobuf")
  p.logs = logs
  return p, p.queue[p.head]
end

local retried = { [1] = "CANCELLED", [4] = "DEADLINE_EXCEEDED", [10] = "ABORTED", [11] = "OUT_OF_RANGE",
  [14] = "UNAVAILABLE", [15] = "DATA_LOSS" }
for code = 1, 16 do
  local p, item = queue()
  p:_grpc_answer(item, code, "why", nil)
  if retried[code] then
    t.ok(p:size() == 1 and p.retries == 1 and p.rejected == 0, ("%s (%d) is retried, kept in the queue"):format(
      retried[code], code))
  else
    t.ok(p:size() == 0 and p.rejected == 1 and p.retries == 0, ("%s (%d) drops the request, counted"):format(
      push.GRPC_CODES[code], code))
    t.ok(p.logs[1] and p.logs[1]:find(("gRPC %s (%d): why"):format(push.GRPC_CODES[code], code), 1, true),
      "... the log names the status and its message", p.logs[1])
  end
end

local p, item = queue()
p:_grpc_answer(item, 8, "slow down", 2500)
t.ok(p:size() == 1 and p.retries == 1, "RESOURCE_EXHAUSTED with RetryInfo is retried")
t.ok(p.logs[1]:find("retrying in 2.5 s", 1, true), "... after RetryInfo's delay", p.logs[1])
p, item = queue()
p:_grpc_answer(item, 14, "", 700)
t.ok(p.logs[1]:find("gRPC UNAVAILABLE (14); 1 queued, retrying in 0.7 s", 1, true),
  "UNAVAILABLE with RetryInfo: its delay; an empty message is left out", p.logs[1])
p, item = queue()
p:_grpc_answer(item, nil, "the connection ended before the response did")
t.ok(p:size() == 1 and p.retries == 1 and p.logs[1]:find("gRPC: the connection ended", 1, true),
  "no status at all (a transport error) is retried, said")
p, item = queue()
p:_grpc_answer(item, 0, "")
t.ok(p:size() == 0 and p.sent == 1 and p.rejected == 0, "OK: delivered, counted as sent")

local function parse(text) return config.parse(text, "a.toml") end
local cfg = parse('[otlp]\nenable = true\nendpoint = "http://127.0.0.1"\nprotocol = "grpc"\n')
t.is(cfg and cfg.otlp.protocol, "Grpc", "protocol = \"grpc\" is taken (case-insensitive, as PSH)")
local _, err = parse('[otlp]\nenable = true\nendpoint = "http://10.0.0.1:4317"\nprotocol = "Grpc"\n')
t.ok(err and err:find("a.toml:3: otlp.endpoint: plain http:// to a host that is not loopback", 1, true),
  "plain gRPC off loopback is refused", err)
_, err = parse('[otlp]\nenable = true\nendpoint = "http://127.0.0.1:4317/v1/metrics"\nprotocol = "Grpc"\n')
t.ok(err and err:find('a.toml:3: otlp.endpoint: protocol = "Grpc" takes http[s]://HOST[:PORT] without a path', 1,
  true), "a gRPC endpoint with a path is refused", err)
t.ok(parse('[otlp]\nenable = true\nendpoint = "https://c.test:4317/"\nprotocol = "Grpc"\nca_file = "ca.pem"\n'),
  "https:// with ca_file and a trailing / is taken")

t.done()
