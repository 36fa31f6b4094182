-- wrk script of scripts/bench-serve: every request is made as one of many
-- users (round-robin over the lines of the file given after `--`:
-- "API_KEY PATH [JSON_BODY]"), so the benchmark measures a server with
-- many shoppers, not one account's lock and history. Prints one summary
-- line: requests/s, p50/p99 latency, and the non-2xx count.
local users = {}
local next_user = 1

function init(args)
  for line in io.lines(args[1]) do
    local key, path, body = line:match("^(%S+)%s+(%S+)%s*(.*)$")
    users[#users + 1] = { key = key, path = path, body = body }
  end
  -- Threads start at different users so they do not move in lockstep.
  next_user = ((thread_index or 0) * 7919) % #users + 1
end

local threads_made = 0
function setup(thread)
  thread:set("thread_index", threads_made)
  threads_made = threads_made + 1
end

function request()
  local u = users[next_user]
  next_user = next_user % #users + 1
  local headers = { ["Authorization"] = "Bearer " .. u.key }
  if u.body ~= "" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", u.path, headers, u.body)
  end
  return wrk.format("GET", u.path, headers)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local failed = summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("%9.0f req/s   p50 %6.1f ms   p99 %6.1f ms   %d requests, %d not 2xx or failed\n",
    summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests, failed))
end
