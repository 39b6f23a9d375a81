-- wrk script: PUT /admin/v1/advertisers/{id}/balance, a charge of 1 won each.
-- ADV_ID and ADMIN_TOKEN come from the environment (see bench/balance-change).
local id = os.getenv("ADV_ID")
local token = os.getenv("ADMIN_TOKEN")
wrk.method = "PUT"
wrk.path = "/admin/v1/advertisers/" .. id .. "/balance"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"action":"charge","amount":1,"memo":"bench"}'

-- PACE_MS > 0: each connection waits that long between requests (paced
-- clients instead of a saturating closed loop).
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
