--[[
  Adds newly joined tickets to a queue's waiting line, heartbeat now. A ticket already waiting keeps its
  heartbeat (NX), as in the embedded index.

  KEYS[1] waiting  ZSET seq -> seq
  KEYS[2] beats    ZSET seq -> last heartbeat (seconds)

  ARGV[1]    heartbeat (seconds)
  ARGV[2..n] seqs

  Returns: nothing.
]]
local beat = ARGV[1]

-- ZADD NX in chunks of 500 members: unpack() of a long list would overflow Lua's C stack.
local function addAll(key, pairs)
  for i = 1, #pairs, 1000 do
    redis.call("ZADD", key, "NX", unpack(pairs, i, math.min(i + 999, #pairs)))
  end
end

local bySeq, byBeat = {}, {}
for i = 2, #ARGV do
  local seq = ARGV[i]
  bySeq[#bySeq + 1] = seq
  bySeq[#bySeq + 1] = seq
  byBeat[#byBeat + 1] = beat
  byBeat[#byBeat + 1] = seq
end
addAll(KEYS[1], bySeq)
addAll(KEYS[2], byBeat)
