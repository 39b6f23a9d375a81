-- wrk script of bench/dashboard-ingestion: the same click again and again
-- (CLICK_BODY): after the first each is DUPLICATE_CLICK, never charged, but
-- every one is a CLICK event for the campaign's dashboard window.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")
request = function()
  return wrk.format("POST", "/api/v1/ads/click", {["Content-Type"] = "application/json"},
                    os.getenv("CLICK_BODY"))
end
