-- wrk script for bench/run.ts. What to send comes from the environment, because wrk decides
-- whether a script is dynamic (and paced) before init(args) runs:
--   BENCH_REQUEST_1, BENCH_REQUEST_2, ...  "METHOD PATH [Header=value ...]", sent in turn
--   BENCH_MEAN_DELAY_MS                   mean pause per connection between requests (0: none)
-- done() prints one JSON line that bench/wrk.ts parses.

local specs = {}
while true do
  local spec = os.getenv("BENCH_REQUEST_" .. (#specs + 1))
  if spec == nil then break end
  specs[#specs + 1] = spec
end

local function parse(spec)
  local method, path, rest = spec:match("^(%S+) (%S+)%s*(.*)$")
  local headers = {}
  for name, value in rest:gmatch("([^%s=]+)=(%S+)") do headers[name] = value end
  return method, path, headers
end

if #specs == 1 then
  -- One request: wrk formats it once and sends the same bytes every time (no Lua per request).
  local method, path, headers = parse(specs[1])
  wrk.method = method
  wrk.path = path
  for name, value in pairs(headers) do wrk.headers[name] = value end
else
  local formatted = {}
  local next = 0

  function init(args)
    for i, spec in ipairs(specs) do
      local method, path, headers = parse(spec)
      formatted[i] = wrk.format(method, path, headers)
    end
  end

  function request()
    next = next % #formatted + 1
    return formatted[next]
  end
end

local meanDelayMs = tonumber(os.getenv("BENCH_MEAN_DELAY_MS") or "0")
if meanDelayMs > 0 then
  math.randomseed(os.time())

  -- Exponential gaps make arrivals Poisson-like rather than lock-stepped; wrk takes whole
  -- milliseconds, so the gap is rounded up or down at random to keep its mean exact.
  function delay()
    local gap = -meanDelayMs * math.log(1 - math.random())
    return math.floor(gap + math.random())
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,' ..
    '"statusErrors":%d,"timeouts":%d,"p50Us":%d,"p99Us":%d,"meanUs":%.1f,"maxUs":%d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max))
end
