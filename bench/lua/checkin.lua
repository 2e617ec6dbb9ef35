-- Scanners: each request scans one of the codes in CODES_FILE, round robin.
local codes = {}
local position = 0

function init(args)
  for line in io.lines(os.getenv("CODES_FILE")) do
    table.insert(codes, line)
  end
  position = math.random(#codes)
end

request = function()
  position = position % #codes + 1
  local body = '{"code":"' .. codes[position] .. '"}'
  return wrk.format("POST", wrk.path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
  }, body)
end
