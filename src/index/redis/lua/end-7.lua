--[[
  Ends tickets (cancelled or expired): removes them from the line and the released set, and records the
  terminal state so a late poll can answer without asking the record.

  KEYS[1] waiting      ZSET seq -> seq
  KEYS[2] beats        ZSET seq -> last heartbeat (seconds)
  KEYS[3] released     HASH seq -> releasedAt|seenAt|token
  KEYS[4] released_at  ZSET seq -> releasedAt (ms)
  KEYS[5] unseen       ZSET seq -> releasedAt (ms)
  KEYS[6] the ended set of the new state (cancelled or expired), seq -> when (ms)
  KEYS[7] the other ended set

  ARGV[1]    when (ms)
  ARGV[2..n] seqs

  Returns: nothing.
]]
local at = ARGV[1]

-- One command per chunk of 1000 list items: unpack() of a long list would overflow Lua's C stack.
local function chunked(command, key, list)
  for i = 1, #list, 1000 do
    redis.call(command, key, unpack(list, i, math.min(i + 999, #list)))
  end
end

local seqs, ended = {}, {}
for i = 2, #ARGV do
  seqs[#seqs + 1] = ARGV[i]
  ended[#ended + 1] = at
  ended[#ended + 1] = ARGV[i]
end
chunked("ZREM", KEYS[1], seqs)
chunked("ZREM", KEYS[2], seqs)
chunked("HDEL", KEYS[3], seqs)
chunked("ZREM", KEYS[4], seqs)
chunked("ZREM", KEYS[5], seqs)
chunked("ZREM", KEYS[7], seqs)
chunked("ZADD", KEYS[6], ended)
