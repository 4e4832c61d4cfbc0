--[[
  Forgets released entries released before one cutoff and ended entries that ended before another; polls
  for them fall back to the record. Only what is due is touched: each step takes the oldest by score.

  KEYS[1] released     HASH seq -> releasedAt|seenAt|token
  KEYS[2] released_at  ZSET seq -> releasedAt (ms)
  KEYS[3] unseen       ZSET seq -> releasedAt (ms)
  KEYS[4] cancelled    ZSET seq -> when (ms)
  KEYS[5] expired      ZSET seq -> when (ms)

  ARGV[1] released cutoff (ms): released entries strictly older go ("-inf": none)
  ARGV[2] ended cutoff (ms): ended entries strictly older go ("-inf": none)

  Returns: the number of entries forgotten.
]]
-- @include forget-released
local releasedBelow = "(" .. ARGV[1]
local endedBelow = "(" .. ARGV[2]
local forgotten = 0
-- A page (from chunked) at a time: a long due list is never read whole.
while true do
  local old = redis.call("ZRANGE", KEYS[2], "-inf", releasedBelow, "BYSCORE", "LIMIT", 0, PAGE)
  if #old == 0 then
    break
  end
  forgetReleased(KEYS[1], KEYS[2], KEYS[3], old)
  forgotten = forgotten + #old
end
forgotten = forgotten + redis.call("ZREMRANGEBYSCORE", KEYS[4], "-inf", endedBelow)
forgotten = forgotten + redis.call("ZREMRANGEBYSCORE", KEYS[5], "-inf", endedBelow)
return forgotten
