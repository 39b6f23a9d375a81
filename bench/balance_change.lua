-- wrk script: PUT /admin/v1/advertisers/{id}/balance, a charge of 1 won each.
-- ADV_ID and ADMIN_TOKEN come from the environment (see bench/balance-change).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk_common.lua")
local id = os.getenv("ADV_ID")
local token = os.getenv("ADMIN_TOKEN")
wrk.method = "PUT"
wrk.path = "/admin/v1/advertisers/" .. id .. "/balance"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"action":"charge","amount":1,"memo":"bench"}'
