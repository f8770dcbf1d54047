-- SPDX-License-Identifier: GPL-2.0
-- shark/agent/exporters.lua - where the jobs' metrics go: Prometheus'
-- /metrics (pulled), OTLP/HTTP (pushed every interval). The agent's own
-- health is published beside the jobs' metrics.
local metric = require "shark.metric"
local prom = require "shark.export.prometheus"

local M = {}

local Ex = {}
Ex.__index = Ex

function M.new(o)
  local self = setmetatable({ log = o.log, jobs = o.jobs, reg = metric.registry() }, Ex)
  local r = { registry = self.reg }
  self.up = metric.gauge("shark_agent_job_up", "1 when the job runs, 0 when it ended.", { "job" }, r)
  self.scrapes = metric.counter("shark_agent_scrapes_total", "Scrapes of /metrics served.", {}, r)
  return self
end

-- The agent's own series, then every job's: one exposition.
function Ex:families()
  self.up:reset()
  for _, s in ipairs(self.jobs:status()) do
    self.up:set(s.status == "running" and 1 or 0, { job = s.name })
  end
  local snaps = { self.reg:collect() }
  for _, s in ipairs(self.jobs:snapshots()) do snaps[#snaps + 1] = s end
  local fams, conflicts = prom.merge(snaps)
  if conflicts > 0 and not self.warned then
    self.warned = true
    self.log("%d metric families share a name with another type; the later ones are left out", conflicts)
  end
  return fams
end

function Ex:prometheus_text()
  self.scrapes:inc()
  return prom.render(self:families())
end

function Ex:apply(cfg)
  self.cfg = cfg
end

function Ex:close() -- luacheck: no unused args
end

return M
