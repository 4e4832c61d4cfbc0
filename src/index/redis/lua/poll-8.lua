--[[
  A visitor's status poll, in one round trip: the ticket's state, and its heartbeat.
  Looks in order: waiting, released, cancelled, expired (the embedded index's order).
  A waiting ticket's heartbeat is recorded; the first poll of a released ticket records it as seen.
  Until the queue is marked loaded (rebuilt since the index was emptied), a ticket neither released nor
  ended is reported "unknown" and rebuilding: the line may hold only tickets added since, so a rank would
  be wrong, and a ticket absent from it may be waiting in the record.

  KEYS[1] waiting    ZSET seq -> seq
  KEYS[2] beats      ZSET seq -> last heartbeat (seconds)
  KEYS[3] released   HASH seq -> releasedAt|seenAt|token
  KEYS[4] unseen     ZSET seq -> releasedAt (ms)
  KEYS[5] cancelled  ZSET seq -> when (ms)
  KEYS[6] expired    ZSET seq -> when (ms)
  KEYS[7] meta       HASH configured, measured, abandon
  KEYS[8] loaded     STRING marker

  ARGV[1] seq
  ARGV[2] now (ms)
  ARGV[3] now (seconds, the heartbeat)

  Returns one of:
    {"waiting", size, rank, configured|nil, measured|nil|"", abandon|nil}
    {"released", size, releasedAt, accessToken, firstSeen (1 or 0)}
    {"cancelled", size} | {"expired", size}
    {"unknown", size, rebuilding (1 when the queue is not loaded, else 0)}
]]
-- @include released
local seq = ARGV[1]
local size = redis.call("ZCARD", KEYS[1])
local rebuilding = 1 - redis.call("EXISTS", KEYS[8])

local rank = redis.call("ZRANK", KEYS[1], seq)
if rank then
  -- The visitor is alive whatever the index can say about the rank.
  redis.call("ZADD", KEYS[2], ARGV[3], seq)
  if rebuilding == 1 then
    return {"unknown", size, 1}
  end
  local meta = redis.call("HMGET", KEYS[7], "configured", "measured", "abandon")
  return {"waiting", size, rank, meta[1], meta[2], meta[3]}
end

local released = redis.call("HGET", KEYS[3], seq)
if released then
  local releasedAt, token, firstSeen = seeReleased(KEYS[3], KEYS[4], seq, released, ARGV[2])
  return {"released", size, releasedAt, token, firstSeen}
end

if redis.call("ZSCORE", KEYS[5], seq) then
  return {"cancelled", size}
end
if redis.call("ZSCORE", KEYS[6], seq) then
  return {"expired", size}
end
return {"unknown", size, rebuilding}
