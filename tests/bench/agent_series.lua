-- agent_series.lua N - an agent job publishing N series (the scrape bench).
local n = tonumber(arg[1]) or 10000
local g = shark.metric.gauge("bench_series", "A series per label value.", { "i" })
for i = 1, n do g:set(i, { i = tostring(i) }) end
set_interval(1000, function() end)
