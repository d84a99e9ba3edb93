-- wrk script for bench/load_test.py: managers' and telecallers' dashboard
-- reads with, every WRITE_EVERY-th request, a telecaller's quick update.
--
-- The driver logs every virtual user in first (a real login POST) and writes
-- their cookies, the URLs to read and the leads to update into the Lua file
-- named by CRM_LOAD_DATA, which returns:
--   { sessions = { {cookie=, csrf=}, ... },
--     reads = { {path=, session=}, ... },
--     writes = { {lead=, session=}, ... },
--     write_every = 11, next_path = "/dashboard/?from=quick-update",
--     followup_base = <epoch seconds>, max_responses = N }
-- A response counts as an error unless it is a 200 (a read) or a 302 to
-- next_path (an update, which always redirects there).

local data = dofile(os.getenv("CRM_LOAD_DATA"))
local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
   thread:set("thread_count", 0)  -- set below, once all threads exist
end

local function urlencode(text)
   return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local statuses = { "needs_followup", "did_not_pick_up", "open", "confirmed" }

function init(args)
   thread_count = tonumber(args[1]) or 1
   math.randomseed(7919 * thread_number)
   sent, reads_ok, writes_sent, writes_ok, errors, responses = 0, 0, 0, 0, 0, 0
   error_statuses = ""
   next_write = thread_number  -- this thread's writes: every thread_count-th entry
end

local function read_request()
   local read = data.reads[math.random(#data.reads)]
   local session = data.sessions[read.session]
   return wrk.format("GET", read.path, { Cookie = session.cookie })
end

local function write_request()
   local write = data.writes[(next_write - 1) % #data.writes + 1]
   next_write = next_write + thread_count
   local session = data.sessions[write.session]
   -- A minute no other update uses: every update really moves the follow-up.
   local minute = writes_sent * thread_count + thread_number
   writes_sent = writes_sent + 1
   local followup = os.date("!%Y-%m-%d %H:%M", data.followup_base + 60 * minute)
   local body = "csrfmiddlewaretoken=" .. urlencode(session.csrf)
      .. "&status=" .. statuses[minute % #statuses + 1]
      .. "&followup_date=" .. urlencode(followup)
      .. "&remark=" .. urlencode("load test call " .. thread_number .. "-" .. writes_sent)
      .. "&next=" .. urlencode(data.next_path)
   return wrk.format("POST", "/leads/" .. write.lead .. "/quick-update/", {
      Cookie = session.cookie,
      ["Content-Type"] = "application/x-www-form-urlencoded",
   }, body)
end

function request()
   sent = sent + 1
   if sent % data.write_every == 0 then
      return write_request()
   end
   return read_request()
end

function response(status, headers, body)
   responses = responses + 1
   if status == 200 then
      reads_ok = reads_ok + 1
   elseif status == 302 and headers["Location"] == data.next_path then
      writes_ok = writes_ok + 1
   else
      errors = errors + 1
      if #error_statuses < 200 then
         error_statuses = error_statuses .. status .. " " .. tostring(headers["Location"]) .. "; "
      end
   end
   if responses >= data.max_responses then
      wrk.thread:stop()  -- the count bound; -d is the time bound
   end
end

function done(summary, latency, requests)
   local totals = { reads_ok = 0, writes_sent = 0, writes_ok = 0, errors = 0 }
   local samples = ""
   for _, thread in ipairs(threads) do
      for name, _ in pairs(totals) do
         totals[name] = totals[name] + thread:get(name)
      end
      samples = samples .. thread:get("error_statuses")
   end
   local e = summary.errors
   io.write(string.format(
      'CRM_LOAD_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "reads_ok": %d, "writes_sent": %d, "writes_ok": %d, '
      .. '"bad_responses": %d, "socket_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"error_samples": "%s"}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      latency:percentile(99), latency.max, totals.reads_ok, totals.writes_sent, totals.writes_ok,
      totals.errors, e.connect + e.read + e.write, e.status, e.timeout,
      samples:gsub('"', "'")))
end
