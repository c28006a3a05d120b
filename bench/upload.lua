-- wrk script: 1 MiB uploads (the body is read once from UPLOAD_FILE).
local f = assert(io.open(os.getenv("UPLOAD_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  acked = 0
end

function response(status, headers, body)
  if status == 202 then acked = acked + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("acked") end
  io.write(string.format("RESULT requests=%d acked=%d non2xx=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, total, summary.errors.status, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
end
