--[[
  Ends tickets (cancelled or expired): removes them from the line and the released set, and records the
  terminal state so a late poll can answer without asking the record. A ticket already held as ended
  takes the new state but keeps its time (its retention runs from when it first ended, as in the embedded
  index). Then, past the cap, the oldest ended entries of both sets go, oldest first.

  KEYS[1] waiting      ZSET seq -> seq
  KEYS[2] beats        ZSET seq -> last heartbeat (seconds)
  KEYS[3] released     HASH seq -> releasedAt|seenAt|token
  KEYS[4] released_at  ZSET seq -> releasedAt (ms)
  KEYS[5] unseen       ZSET seq -> releasedAt (ms)
  KEYS[6] the ended set of the new state (cancelled or expired), seq -> when (ms)
  KEYS[7] the other ended set

  ARGV[1]    when (ms)
  ARGV[2]    cap: most entries held in the two ended sets together
  ARGV[3..n] seqs

  Returns: nothing.
]]
-- @include chunked
-- @include forget-released
local at, cap = ARGV[1], tonumber(ARGV[2])
local into, other = KEYS[6], KEYS[7]

local seqs, ended = {}, {}
for i = 3, #ARGV do
  local seq = ARGV[i]
  local first = redis.call("ZSCORE", other, seq)
  if first then
    redis.call("ZREM", other, seq)
  else
    first = redis.call("ZSCORE", into, seq)
  end
  seqs[#seqs + 1] = seq
  ended[#ended + 1] = first or at
  ended[#ended + 1] = seq
end
chunked("ZREM", KEYS[1], seqs)
chunked("ZREM", KEYS[2], seqs)
forgetReleased(KEYS[3], KEYS[4], KEYS[5], seqs)
chunked("ZADD", into, ended)

-- Over the cap: merge the two sets' oldest to find how many of the `over` oldest each one holds.
local over = redis.call("ZCARD", into) + redis.call("ZCARD", other) - cap
if over > 0 then
  local a = redis.call("ZRANGE", into, 0, over - 1, "WITHSCORES")
  local b = redis.call("ZRANGE", other, 0, over - 1, "WITHSCORES")
  local i, j = 0, 0
  while i + j < over do
    local sa, sb = a[2 * i + 2], b[2 * j + 2]
    if sb == nil or (sa ~= nil and tonumber(sa) <= tonumber(sb)) then
      i = i + 1
    else
      j = j + 1
    end
  end
  if i > 0 then
    redis.call("ZREMRANGEBYRANK", into, 0, i - 1)
  end
  if j > 0 then
    redis.call("ZREMRANGEBYRANK", other, 0, j - 1)
  end
end
