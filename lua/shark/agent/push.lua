-- SPDX-License-Identifier: GPL-2.0
-- shark/agent/push.lua - a bounded queue of request bodies sent to one
-- endpoint in order: what OTLP export and profile uploads share. A body is
-- dropped from the queue only once the endpoint took it (2xx), refused it
-- for good (another 4xx), or the queue overflowed (the oldest goes, and is
-- counted). 429/502/503/504 and network errors are retried, honouring
-- Retry-After, with a backoff otherwise; so data outlives a collector outage
-- as long as the queue bound allows. With grpc = true the bodies go as
-- gRPC unary calls (url: the method's), with gRPC's statuses.
local uv = require "uv"
local httpc = require "shark.httpc"

local M = {}

local RETRY = { [429] = true, [502] = true, [503] = true, [504] = true }
local BACKOFF_MIN, BACKOFF_MAX = 1, 60

local Push = {}
Push.__index = Push

-- new{name, url, headers = "K: V\r\n...", timeout_s, max, log, on_sent, grpc}
function M.new(o)
  return setmetatable({ name = o.name, url = o.url, grpc = o.grpc, headers = o.headers or "",
    timeout_s = o.timeout_s or 3, max = o.max or 1000, log = o.log, on_sent = o.on_sent, queue = {}, head = 1, tail = 0,
    sent = 0, dropped = 0, rejected = 0, retries = 0 }, Push)
end

function Push:size()
  return self.tail - self.head + 1
end

-- Queue a body (to url, else the sink's).
function Push:enqueue(body, ctype, url)
  self.tail = self.tail + 1
  self.queue[self.tail] = { body = body, ctype = ctype, url = url }
  while self:size() > self.max do
    self.queue[self.head] = nil
    self.head = self.head + 1
    self.dropped = self.dropped + 1
    if not self.warned_full then
      self.warned_full = true
      self.log("%s: queue full (%d), dropping the oldest", self.name, self.max)
    end
  end
  self:_kick(0)
end

-- Retry-After: seconds, or an HTTP date we do not parse (then the backoff).
local function retry_after(headers)
  local v = headers and headers:match("[Rr]etry%-[Aa]fter:%s*(%d+)")
  return v and tonumber(v)
end

function Push:_kick(delay_s)
  if self.timer or self.closed then return end
  self.timer = uv.new_timer()
  self.timer:start(math.floor(delay_s * 1000), 0, function()
    self.timer:close()
    self.timer = nil
    self:_send()
  end)
end

-- Send the head; on its answer, the next (one request in flight at a time,
-- so the order is kept).
function Push:_send()
  if self:size() == 0 or self.closed or self.busy then return end
  local item = self.queue[self.head]
  self.busy = true
  local ok, err
  if self.grpc then
    ok, err = httpc.grpc({ url = item.url or self.url, body = item.body, ca_file = self.ca_file,
      headers = self.headers, timeout_ms = math.floor(self.timeout_s * 1000) }, function(code, msg, retry_ms)
      self.busy = false
      self:_grpc_answer(item, code, msg, retry_ms)
    end)
  else
    ok, err = httpc.request({ method = "POST", url = item.url or self.url, body = item.body,
      ca_file = self.ca_file,
      headers = self.headers .. "Content-Type: " .. item.ctype .. "\r\n",
      timeout_ms = math.floor(self.timeout_s * 1000) }, function(status, rh, rbody)
      self.busy = false
      self:_answer(item, status, rh, rbody)
    end)
  end
  if not ok then
    self.busy = false
    self:_retry(item, err)
  end
end

function Push:_delivered(item)
  self.queue[self.head] = nil
  self.head = self.head + 1
  self.sent = self.sent + 1
  self.backoff = nil
  if self.failing then
    self.log("%s: delivering again", self.name)
    self.failing = false
  end
  if self.on_sent then self.on_sent(item) end
  return self:_send()
end

-- Where a request went, for the log: the sink's URL (an item's own carries
-- labels), or a gRPC method's.
function Push:_where(item)
  return self.grpc and item.url or self.url
end

-- Drop the head for good, counted; said with why and what the endpoint said.
function Push:_refused(item, why, said)
  self.queue[self.head] = nil
  self.head = self.head + 1
  self.rejected = self.rejected + 1
  self.log("%s: %s refused a request for good (%s): dropped%s", self.name, self:_where(item), why,
    said and said ~= "" and ": " .. said or "")
  return self:_send()
end

-- Keep the head and try again in wait_s (else the backoff's next step).
function Push:_retry(item, why, wait_s)
  self.retries = self.retries + 1
  self.backoff = math.min((self.backoff or BACKOFF_MIN / 2) * 2, BACKOFF_MAX)
  local wait = wait_s or self.backoff
  if not self.failing then
    self.failing = true
    self.log("%s: %s: %s; %d queued, retrying in %g s", self.name, self:_where(item), why, self:size(), wait)
  end
  self:_kick(wait)
end

function Push:_answer(item, status, rh, rbody)
  if self.queue[self.head] ~= item then return self:_send() end
  if status and status >= 200 and status < 300 then return self:_delivered(item) end
  if status and not RETRY[status] and status >= 400 and status < 500 then
    -- what the endpoint said is why (a JSON error, a text line): kept short, on one line
    local said = rbody and rbody:sub(1, 300):gsub("[%c]+", " "):gsub("%s+$", "") or ""
    return self:_refused(item, "HTTP " .. status, said)
  end
  self:_retry(item, status and ("HTTP " .. status) or tostring(rh), status and retry_after(rh))
end

-- gRPC status codes by name, for the log.
M.GRPC_CODES = { [0] = "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED" }

-- What the OTLP specification retries (its "Failures" for OTLP/gRPC):
-- these codes always; RESOURCE_EXHAUSTED only when the server sent RetryInfo
-- (it can recover); any other code drops the request. RetryInfo's delay is
-- honoured (its "OTLP/gRPC Throttling"). Transport errors (no status at all:
-- the connection, TLS, a malformed response) are retried as HTTP's are.
local GRPC_RETRY = { [1] = true, [4] = true, [10] = true, [11] = true, [14] = true, [15] = true }

function Push:_grpc_answer(item, code, msg, retry_ms)
  if self.queue[self.head] ~= item then return self:_send() end
  if code == 0 then return self:_delivered(item) end
  if not code then return self:_retry(item, "gRPC: " .. tostring(msg)) end
  local why = ("gRPC %s (%d)%s"):format(M.GRPC_CODES[code] or "code", code, msg ~= "" and ": " .. msg or "")
  if GRPC_RETRY[code] or (code == 8 and retry_ms) then
    return self:_retry(item, why, retry_ms and retry_ms / 1000)
  end
  return self:_refused(item, why)
end

-- Stop sending (what is queued is dropped with the process).
function Push:close()
  self.closed = true
  if self.timer then
    self.timer:close()
    self.timer = nil
  end
end

return M
