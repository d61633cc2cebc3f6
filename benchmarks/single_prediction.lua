-- wrk script for `benchmarks/ledger.py single`: one credit-scoring prediction per POST, each
-- with a unique event id (run prefix, wrk thread, counter), six numeric inputs, an
-- explanation, sensitive attributes and context. ATTEST_KEY is the service account's API key;
-- ATTEST_RUN (8 hex digits) keeps event ids of separate runs apart. At the end it prints one
-- line "JSON {...}" with the counts and latency percentiles (microseconds) for ledger.py.
--
--   ATTEST_KEY=... ATTEST_RUN=0badcafe wrk -t1 -c32 -d20s -s benchmarks/single_prediction.lua \
--       http://127.0.0.1:8765/api/v1/predictions/

local threads = {}
local counter = 0
thread_id = 0  -- set per thread by setup()
local run = os.getenv("ATTEST_RUN") or "00000000"
local key = os.getenv("ATTEST_KEY") or ""

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Api-Key " .. key
end

local decided = os.date("!%Y-%m-%dT%H:%M:%SZ")
local channels = { "web", "branch", "api" }
local bands = { "18-24", "25-39", "40-59", "60+" }

function request()
  counter = counter + 1
  local event_id = string.format("%s-%04x-4%03x-8%03x-%012x", run, thread_id % 65536,
    math.random(0, 4095), math.random(0, 4095), counter)
  local income = math.random(50, 9000) / 10
  local dti = math.random(0, 4500) / 1000
  local history = math.random(0, 600) / 10
  local delinquencies = math.random(0, 6)
  local loan = math.random(10, 15000) / 10
  local employment = math.random(0, 450) / 10
  local score = math.random(1000, 999000) / 1000000
  local body = string.format(
    '{"event_id":"%s","model":"credit-scoring","version":"1.0.0","decided_at":"%s",' ..
    '"inputs":{"income":%.1f,"debt_to_income":%.3f,"credit_history_years":%.1f,' ..
    '"delinquencies":%d,"loan_amount":%.1f,"employment_years":%.1f},' ..
    '"output":{"score":%.6f,"decision":%d},' ..
    '"explanation":{"income":%.4f,"debt_to_income":%.4f,"credit_history_years":%.4f,' ..
    '"delinquencies":%.4f,"loan_amount":%.4f,"employment_years":%.4f},' ..
    '"sensitive":{"sex":"%s","age_band":"%s"},' ..
    '"context":{"request_id":"req-%d-%d","channel":"%s","environment":"production"}}',
    event_id, decided, income, dti, history, delinquencies, loan, employment,
    score, score >= 0.5 and 1 or 0,
    income * 0.021, dti * -1.9, history * 0.06, delinquencies * -0.55, loan * -0.008,
    employment * 0.04,
    math.random(0, 1) == 0 and "F" or "M", bands[math.random(1, 4)],
    thread_id, counter, channels[math.random(1, 3)])
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  print(string.format(
    'JSON {"requests":%d,"seconds":%.3f,"non2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}',
    summary.requests, summary.duration / 1e6, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
