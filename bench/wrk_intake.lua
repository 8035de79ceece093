-- wrk script for bench_intake.py: every request a different, valid submission.
--
--   wrk -s bench/wrk_intake.lua URL -- ping
--   wrk -s bench/wrk_intake.lua URL -- write
--   wrk -s bench/wrk_intake.lua URL -- api TOKEN
--   wrk -s bench/wrk_intake.lua URL -- form COOKIE CSRF_TOKEN
--
-- "api" POSTs JSON to /api/v1/clues with a Bearer token; "form" POSTs the
-- public form to /report as a browser that loaded it once would: its session
-- cookie, its CSRF token and a fresh one-time nonce per submission, so that
-- each request is a real submission (302 to the receipt), never a repeat.
-- Each response's status is counted; done() prints one JSON line.

local categories = {"fees", "fines", "inspections", "seizures", "cross_region",
                    "profit_driven", "quality", "other"}
local districts = {"city", "dinghai", "putuo", "daishan", "shengsi", "xincheng", "putuoshan"}
local agencies = {"普陀区市场监督管理局沈家门所", "定海区综合行政执法局", "岱山县交通运输局运管所",
                  "嵊泗县文化和广电旅游体育局", "新城消防救援大队", "朱家尖旅游度假区综合执法中队"}
local things = {"民宿消防设施", "渔船证照", "餐饮后厨卫生", "店招广告", "货车运输证", "冷库安全生产"}
local names = {"王海波", "李丽娜", "张建国", "刘晓东", "陈敏"}

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  secret = args[2]
  csrf = args[3]
  statuses = {}
  math.randomseed(os.time() * 1000 + id)
end

local function pick(list)
  return list[math.random(#list)]
end

local function story()
  return string.format("%s检查%s时，要求另交费用%d元，没有依据，也不开票据。（编号%d）",
                       pick(agencies), pick(things), math.random(100, 50000),
                       math.random(1, 1000000000))
end

local function phone()
  return string.format("13%d%08d", math.random(0, 9), math.random(0, 99999999))
end

local function urlencode(s)
  return (string.gsub(s, "[^%w%-_%.~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local function api_body()
  local identity = ""
  local real = math.random() < 0.5
  if real then
    identity = string.format(',"identity":{"name":"%s","phone":"%s"}', pick(names), phone())
  end
  return string.format(
    '{"category":"%s","agency":"%s","district":"%s","description":"%s",' ..
    '"amount_yuan":%d,"real_name":%s,"confidential":true%s,' ..
    '"exclusions":{"discipline":false,"petition":false,"reconsideration":false,' ..
    '"litigation":false},"pledge":true}',
    pick(categories), pick(agencies), pick(districts), story(), math.random(0, 50000),
    real and "true" or "false", identity)
end

local function form_body()
  counter = counter + 1
  local fields = {
    {"csrf_token", csrf}, {"nonce", string.format("b%d-%d-%d", id, counter,
                                                    math.random(1, 1000000000))},
    {"ex_discipline", "no"}, {"ex_petition", "no"}, {"ex_reconsideration", "no"},
    {"ex_litigation", "no"}, {"category", pick(categories)}, {"agency", pick(agencies)},
    {"department", ""}, {"district", pick(districts)}, {"description", story()},
    {"amount_yuan", tostring(math.random(0, 50000))}, {"confidential", "y"},
    {"pledge", "y"}, {"website", ""},
  }
  if math.random() < 0.5 then
    table.insert(fields, {"real_name", "yes"})
    table.insert(fields, {"name", pick(names)})
    table.insert(fields, {"phone", phone()})
  else
    table.insert(fields, {"real_name", "no"})
  end
  local parts = {}
  for _, field in ipairs(fields) do
    table.insert(parts, field[1] .. "=" .. urlencode(field[2]))
  end
  return table.concat(parts, "&")
end

function request()
  if mode == "api" then
    return wrk.format("POST", "/api/v1/clues", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. secret}, api_body())
  elseif mode == "write" then
    return wrk.format("POST", "/bench/write", {["Content-Type"] = "application/json"},
                      api_body())
  elseif mode == "form" then
    return wrk.format("POST", "/report", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = secret}, form_body())
  end
  return wrk.format("GET", "/bench/ping")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
