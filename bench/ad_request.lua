-- wrk script: POST /api/v1/ads/request for PLACEMENT (default HOME) with a
-- fresh device id per request.
local placement = os.getenv("PLACEMENT") or "HOME"
local counter = 0
math.randomseed(os.time())
local thread_tag = string.format("%08x", math.random(0, 0x7fffffff))

request = function()
  counter = counter + 1
  local device = string.format("%s-0000-4000-8000-%012d", thread_tag, counter)
  local body = string.format(
    '{"device_id":"%s","session_id":"bench","placement":"%s","max_ads":3}', device, placement)
  return wrk.format("POST", "/api/v1/ads/request", {["Content-Type"] = "application/json"}, body)
end

-- PACE_MS > 0: each connection waits that long between requests (paced
-- clients: latency at a given rate instead of a saturating closed loop).
local pace = tonumber(os.getenv("PACE_MS") or "0")
-- Uniform in [0, 2 x PACE_MS]: clients that all waited the same time would
-- stay in lock-step and arrive in bursts.
if pace > 0 then
  delay = function() return math.random(0, 2 * pace) end
end

-- Each wrk thread has its own Lua state: count there, sum in done().
non200 = 0
all_threads = {}
setup = function(thread) table.insert(all_threads, thread) end
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(all_threads) do total = total + t:get("non200") end
  io.write(string.format("non-200 responses: %d\n", total))
end
