-- wrk script, phase 2 of bench/clicks: POST /api/v1/ads/click, each token
-- (from phase 1, a fresh device each) once; after the last it wraps around,
-- which makes duplicates (answered charged=false, DUPLICATE_CLICK).
local dir = os.getenv("TOKENS_DIR")
local threads = 0

all_threads = {}
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
  table.insert(all_threads, thread)
end

local tokens = {}
local devices = {}
local next_token = 0

-- base64url decoding of the claims part, enough to read "dev".
local value = {}
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
for i = 1, #alphabet do value[alphabet:byte(i)] = i - 1 end
local function b64url_decode(s)
  local out, acc, bits = {}, 0, 0
  for i = 1, #s do
    acc = acc * 64 + value[s:byte(i)]
    bits = bits + 6
    if bits >= 8 then
      bits = bits - 8
      local byte = math.floor(acc / 2 ^ bits)
      out[#out + 1] = string.char(byte)
      acc = acc - byte * 2 ^ bits
    end
  end
  return table.concat(out)
end

init = function(args)
  for line in io.lines(string.format("%s/tokens-%d.txt", dir, tid)) do
    local claims = b64url_decode(line:match("^([^.]+)"))
    table.insert(tokens, line)
    table.insert(devices, claims:match('"dev":"([^"]+)"'))
  end
end

request = function()
  next_token = next_token % #tokens + 1
  local body = string.format('{"token":"%s","device_id":"%s"}', tokens[next_token],
                             devices[next_token])
  return wrk.format("POST", "/api/v1/ads/click", {["Content-Type"] = "application/json"}, body)
end

-- PACE_MS > 0: each connection waits about that long between clicks.
local pace = tonumber(os.getenv("PACE_MS") or "0")
-- Uniform in [0, 2 x PACE_MS]: clients that all waited the same time would
-- stay in lock-step and arrive in bursts.
if pace > 0 then
  delay = function() return math.random(0, 2 * pace) end
end

non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(all_threads) do total = total + t:get("non200") end
  io.write(string.format("non-200 responses: %d\n", total))
end
