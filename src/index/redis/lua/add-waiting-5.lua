--[[
  Adds waiting tickets (new joins, or the record's during a rebuild), heartbeat now, without disturbing
  tickets already waiting (NX keeps their heartbeat) and skipping any the index knows were released or
  ended: an add that arrives after the ticket's release (another process was faster) must not resurrect it.

  KEYS[1] waiting    ZSET seq -> seq
  KEYS[2] beats      ZSET seq -> last heartbeat (seconds)
  KEYS[3] released   HASH seq -> releasedAt|seenAt|token
  KEYS[4] cancelled  ZSET seq -> when (ms)
  KEYS[5] expired    ZSET seq -> when (ms)

  ARGV[1]    heartbeat (seconds)
  ARGV[2..n] seqs

  Returns: nothing.
]]
-- @include chunked
local beat = ARGV[1]

local bySeq, byBeat = {}, {}
for i = 2, #ARGV do
  local seq = ARGV[i]
  if redis.call("HEXISTS", KEYS[3], seq) == 0
    and not redis.call("ZSCORE", KEYS[4], seq)
    and not redis.call("ZSCORE", KEYS[5], seq) then
    bySeq[#bySeq + 1] = seq
    bySeq[#bySeq + 1] = seq
    byBeat[#byBeat + 1] = beat
    byBeat[#byBeat + 1] = seq
  end
end
chunked("ZADD", KEYS[1], bySeq, "NX")
chunked("ZADD", KEYS[2], byBeat, "NX")
