--[[
  Many visitors' status polls in one script (the live-updates hub asks for all of its connected visitors
  of one queue at once; the adapter sends them in pages of this script, all in one round trip): for each
  ticket, what poll-8.lua answers, with the same effects (a
  waiting ticket's heartbeat is recorded; the first sighting of a released ticket is recorded). The queue's
  size, loaded marker and meta are read once.

  KEYS[1] waiting    ZSET seq -> seq
  KEYS[2] beats      ZSET seq -> last heartbeat (seconds)
  KEYS[3] released   HASH seq -> releasedAt|seenAt|token
  KEYS[4] unseen     ZSET seq -> releasedAt (ms)
  KEYS[5] cancelled  ZSET seq -> when (ms)
  KEYS[6] expired    ZSET seq -> when (ms)
  KEYS[7] meta       HASH configured, measured, abandon
  KEYS[8] loaded     STRING marker

  ARGV[1]    now (ms)
  ARGV[2]    now (seconds, the heartbeat)
  ARGV[3..n] seqs

  Returns {size, rebuilding (1 or 0), configured|nil, measured|nil|"", abandon|nil, answer...}, one answer
  per seq, in order, each one of:
    rank (an integer: waiting; when rebuilding, "unknown" instead, as poll answers)
    {"released", releasedAt, accessToken, firstSeen (1 or 0)}
    "cancelled" | "expired" | "unknown"
]]
-- @include released
local size = redis.call("ZCARD", KEYS[1])
local rebuilding = 1 - redis.call("EXISTS", KEYS[8])
local meta = redis.call("HMGET", KEYS[7], "configured", "measured", "abandon")
local out = {size, rebuilding, meta[1], meta[2], meta[3]}

for i = 3, #ARGV do
  local seq = ARGV[i]
  local answer
  local rank = redis.call("ZRANK", KEYS[1], seq)
  if rank then
    redis.call("ZADD", KEYS[2], ARGV[2], seq)
    if rebuilding == 1 then answer = "unknown" else answer = rank end
  else
    local released = redis.call("HGET", KEYS[3], seq)
    if released then
      local releasedAt, token, firstSeen = seeReleased(KEYS[3], KEYS[4], seq, released, ARGV[1])
      answer = {"released", releasedAt, token, firstSeen}
    elseif redis.call("ZSCORE", KEYS[5], seq) then
      answer = "cancelled"
    elseif redis.call("ZSCORE", KEYS[6], seq) then
      answer = "expired"
    else
      answer = "unknown"
    end
  end
  out[#out + 1] = answer
end
return out
