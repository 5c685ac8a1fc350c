-- wrk script: GET /ipxe/boot?mac=<one of the registered MACs, at random> (bench/run.sh).
-- NODES (env) nodes were added with --mac 52:54:00:01:[00-99]:[00-99], in that order.
local nodes = tonumber(os.getenv("NODES") or "10000")
math.randomseed(os.time())
request = function()
  local i = math.random(0, nodes - 1)
  local path = string.format("/ipxe/boot?mac=52:54:00:01:%02d:%02d", math.floor(i / 100), i % 100)
  return wrk.format("GET", path)
end
