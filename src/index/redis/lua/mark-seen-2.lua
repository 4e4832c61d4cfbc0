--[[
  A released visitor was seen by the site (admission check): records the first sighting.

  KEYS[1] released  HASH seq -> releasedAt|seenAt|token
  KEYS[2] unseen    ZSET seq -> releasedAt (ms)

  ARGV[1] seq
  ARGV[2] now (ms)

  Returns: 1 the first time a released ticket is seen, else 0 (already seen, or not released).
]]
local seq = ARGV[1]
local released = redis.call("HGET", KEYS[1], seq)
if not released then
  return 0
end
local a = string.find(released, "|", 1, true)
local b = string.find(released, "|", a + 1, true)
if b > a + 1 then
  return 0
end
redis.call("HSET", KEYS[1], seq, string.sub(released, 1, a) .. ARGV[2] .. string.sub(released, b))
redis.call("ZREM", KEYS[2], seq)
return 1
