-- A calendar client that already holds the feed: If-None-Match with its ETag.
request = function()
  return wrk.format("GET", wrk.path, {["If-None-Match"] = os.getenv("ETAG")})
end
