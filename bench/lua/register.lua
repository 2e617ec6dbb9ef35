-- Registrations with a unique email per request: thread id and a counter.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

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
