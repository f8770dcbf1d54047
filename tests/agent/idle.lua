-- idle.lua NAME - an agent job that publishes one gauge and waits.
local g = shark.metric.gauge("idle_job_info", "An idle job.", { "name" })
g:set(1, { name = arg[1] or "idle" })
set_interval(1000, function() end)
