-- wrk script: POST /api/v1/ads/request, SEARCH for SEARCH_TERM (bench/ad-requests
-- sets it) or else PLACEMENT (default HOME), with a fresh device id per request.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")
local term = os.getenv("SEARCH_TERM")
local placement = term and "SEARCH" or (os.getenv("PLACEMENT") or "HOME")
local extra = term and string.format(',"search_term":"%s"', term) or ""
local counter = 0
math.randomseed(os.time())
local thread_tag = string.format("%08x", math.random(0, 0x7fffffff))

request = function()
  counter = counter + 1
  local device = string.format("%s-0000-4000-8000-%012d", thread_tag, counter)
  local body = string.format(
    '{"device_id":"%s","session_id":"bench","placement":"%s"%s,"max_ads":3}', device, placement,
    extra)
  return wrk.format("POST", "/api/v1/ads/request", {["Content-Type"] = "application/json"}, body)
end
