-- SPDX-License-Identifier: GPL-2.0
-- shark/drain.lua - the one shape of every ring drain (perf rings, BPF ring
-- buffers): entered once per wake-up or tick, it reads a batch in place,
-- hands it to dispatch(n), gives the space back, and repeats while batches
-- come full. A handler may stop its handle mid-batch: the handle closes
-- once the drain is out of the batch.
return function(h, source, read, consume, batch, max, dispatch)
  return function()
    if h.closed or h.draining then return end
    h.draining = true
    local src = h[source]
    while true do
      local n = read(src, batch, max)
      if n <= 0 then break end
      dispatch(n)
      consume(src)
      if n < max or h.stopping then break end
    end
    h.draining = false
    if h.stopping then h:_close() end
  end
end
