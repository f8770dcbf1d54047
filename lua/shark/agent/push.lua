-- SPDX-License-Identifier: GPL-2.0
-- shark/agent/push.lua - a bounded queue of request bodies sent to one
-- endpoint in order: what OTLP export and profile uploads share. A body is
-- dropped from the queue only once the endpoint took it (2xx), refused it
-- for good (another 4xx), or the queue overflowed (the oldest goes, and is
-- counted). 429/502/503/504 and network errors are retried, honouring
-- Retry-After, with a backoff otherwise; so data outlives a collector outage
-- as long as the queue bound allows.
local uv = require "uv"
local httpc = require "shark.httpc"

local M = {}

local RETRY = { [429] = true, [502] = true, [503] = true, [504] = true }
local BACKOFF_MIN, BACKOFF_MAX = 1, 60

local Push = {}
Push.__index = Push

-- new{name, url, headers = "K: V\r\n...", timeout_s, max, log, on_sent}
function M.new(o)
  return setmetatable({ name = o.name, url = o.url, headers = o.headers or "", timeout_s = o.timeout_s or 3,
    max = o.max or 1000, log = o.log, on_sent = o.on_sent, queue = {}, head = 1, tail = 0,
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
  local ok, err = httpc.request({ method = "POST", url = item.url or self.url, body = item.body,
    ca_file = self.ca_file,
    headers = self.headers .. "Content-Type: " .. item.ctype .. "\r\n",
    timeout_ms = math.floor(self.timeout_s * 1000) }, function(status, rh, rbody)
    self.busy = false
    self:_answer(item, status, rh, rbody)
  end)
  if not ok then
    self.busy = false
    self:_answer(item, nil, err)
  end
end

function Push:_answer(item, status, rh, rbody)
  if self.queue[self.head] ~= item then return self:_send() end
  if status and status >= 200 and status < 300 then
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
  elseif status and not RETRY[status] and status >= 400 and status < 500 then
    self.queue[self.head] = nil
    self.head = self.head + 1
    self.rejected = self.rejected + 1
    -- what the endpoint said is why (a JSON error, a text line): kept short, on one line
    local why = rbody and rbody:sub(1, 300):gsub("[%c]+", " "):gsub("%s+$", "") or ""
    self.log("%s: %s refused a request for good (HTTP %d): dropped%s", self.name, self.url, status,
      why ~= "" and ": " .. why or "")
    return self:_send()
  end
  self.retries = self.retries + 1
  self.backoff = math.min((self.backoff or BACKOFF_MIN / 2) * 2, BACKOFF_MAX)
  local wait = (status and retry_after(rh)) or self.backoff
  if not self.failing then
    self.failing = true
    self.log("%s: %s: %s; %d queued, retrying in %g s", self.name, self.url,
      status and ("HTTP " .. status) or tostring(rh), self:size(), wait)
  end
  self:_kick(wait)
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
