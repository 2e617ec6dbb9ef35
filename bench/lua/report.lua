-- Shared by every scenario: count each answer's status, then print one JSON line with
-- throughput, latency, errors and those counts. wrk's own status error count only sees
-- answers above 399, so a run of redirects would look clean; run.py checks the statuses.
local threads = {}
statuses = {}

function setup(thread)
  thread:set("id", #threads + 1) -- register.lua makes unique emails from it
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  local counted = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counted[status] = (counted[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counted) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"seconds":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"errors":%d,' ..
    '"non_2xx":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors, summary.errors.status, table.concat(parts, ",")))
end
