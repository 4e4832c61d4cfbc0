--[[
  A released visitor was seen by the site (admission check): records the first sighting.

  KEYS[1] released  HASH seq -> releasedAt|seenAt|token
  KEYS[2] unseen    ZSET seq -> releasedAt (ms)

  ARGV[1] seq
  ARGV[2] now (ms)

  Returns: 1 the first time a released ticket is seen, else 0 (already seen, or not released).
]]
-- @include released
local seq = ARGV[1]
local released = redis.call("HGET", KEYS[1], seq)
if not released then
  return 0
end
local _, _, firstSeen = seeReleased(KEYS[1], KEYS[2], seq, released, ARGV[2])
return firstSeen
