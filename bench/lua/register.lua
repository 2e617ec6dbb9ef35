-- Registrations with a unique email per request: thread id (set by report.lua) and a counter.
local counter = 0
local thread_id = 0

function init(args)
  thread_id = id
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"name":"Bench %d-%d","email":"bench-%d-%d-%d@example.org","organisation":"Bench GmbH",' ..
    '"stakeholder_group":"business","consent":true}',
    thread_id, counter, os.time(), thread_id, counter)
  return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json"}, body)
end
