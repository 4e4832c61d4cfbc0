--[[
  Releases tickets: takes them out of the line and records each one's admission token. A ticket without
  a seenAt is also listed as unseen, for the expiry of releases never used. Replaces an existing entry.

  KEYS[1] waiting      ZSET seq -> seq
  KEYS[2] beats        ZSET seq -> last heartbeat (seconds)
  KEYS[3] released     HASH seq -> releasedAt|seenAt|token
  KEYS[4] released_at  ZSET seq -> releasedAt (ms)
  KEYS[5] unseen       ZSET seq -> releasedAt (ms)

  ARGV    groups of four, one per ticket: seq, releasedAt (ms), seenAt (ms, or "" if not seen), token

  Returns: nothing.
]]
-- @include released
for i = 1, #ARGV, 4 do
  local seq, releasedAt, seenAt, token = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  redis.call("ZREM", KEYS[1], seq)
  redis.call("ZREM", KEYS[2], seq)
  redis.call("HSET", KEYS[3], seq, releasedEntry(releasedAt, seenAt, token))
  redis.call("ZADD", KEYS[4], releasedAt, seq)
  if seenAt == "" then
    redis.call("ZADD", KEYS[5], releasedAt, seq)
  else
    redis.call("ZREM", KEYS[5], seq)
  end
end
