-- Shared by the wrk scripts of bench/ (loaded with dofile from the script's
-- own folder). Each wrk thread has its own Lua state: threads get a number
-- (global `tid`), count non-200 answers themselves, and done() sums them.
-- PACE_MS > 0: each connection waits a uniform random 0..2 x PACE_MS between
-- requests (a fixed wait would keep the clients in lock-step, in bursts).
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local pace = tonumber(os.getenv("PACE_MS") or "0")
if pace > 0 then
  delay = function() return math.random(0, 2 * pace) end
end

non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("non200") end
  io.write(string.format("non-200 responses: %d\n", total))
end
