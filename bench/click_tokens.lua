-- wrk script, phase 1 of bench/clicks: ad requests for TERM with a fresh
-- device per request; every served token is written, one per line, to
-- TOKENS_DIR/tokens-<thread>.txt for phase 2 (build/bench/click_load).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")
local term = os.getenv("TERM_KEYWORD")
local term_count = tonumber(os.getenv("TERM_COUNT") or "1")
local dir = os.getenv("TOKENS_DIR")
local counter = 0
local file

init = function(args)
  file = io.open(string.format("%s/tokens-%d.txt", dir, tid), "w")
end

request = function()
  counter = counter + 1
  local device = string.format("%08x-1111-4000-8000-%012d", tid, counter)
  local body = string.format(
    '{"device_id":"%s","session_id":"bench","placement":"SEARCH","search_term":"%s","max_ads":1}',
    device, string.format("%s_%d", term, counter % term_count))
  return wrk.format("POST", "/api/v1/ads/request", {["Content-Type"] = "application/json"}, body)
end

response = function(status, headers, body)
  -- Which device a response belongs to is read back from the token's claims
  -- in phase 2 (responses of a thread's connections interleave).
  local token = body:match('"token":"([^"]+)"')
  if status == 200 and token then
    file:write(token, "\n")
  end
end
