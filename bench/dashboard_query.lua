-- GET of a dashboard query (DASH_PATH, with the admin token in TOKEN); prints
-- p50/p95/p99 and the non-200 count.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "wrk_common.lua")
local common_done = done

request = function()
  return wrk.format("GET", os.getenv("DASH_PATH"),
                    {["Authorization"] = "Bearer " .. os.getenv("TOKEN")})
end

done = function(summary, latency, requests)
  common_done(summary, latency, requests)
  io.write(string.format("latency p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n",
                         latency:percentile(50) / 1000, latency:percentile(95) / 1000,
                         latency:percentile(99) / 1000))
end
