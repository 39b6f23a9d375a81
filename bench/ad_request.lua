-- wrk script: POST /api/v1/ads/request for PLACEMENT (default HOME) with a
-- fresh device id per request.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")
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
