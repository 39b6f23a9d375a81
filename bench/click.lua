-- wrk script, phase 2 of bench/clicks: POST /api/v1/ads/click, each token
-- (from phase 1, a fresh device each) once; after the last it wraps around,
-- which makes duplicates (answered charged=false, DUPLICATE_CLICK).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")
local dir = os.getenv("TOKENS_DIR")
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
