--[[
  Waiting tickets whose last heartbeat is before a cutoff, smallest seq (oldest ticket) first. Read-only.

  The heartbeat set is ordered by heartbeat, not seq, so this takes up to ARGV[3] stale tickets by
  heartbeat (the longest silent first), sorts them by seq and returns the first ARGV[2]. The answer is
  exactly the embedded index's (the smallest stale seqs) whenever at most ARGV[3] tickets are stale; beyond
  that it is the smallest seqs among the ARGV[3] longest silent, all of them stale. The scan budget bounds
  the time Redis spends here when a mass of visitors goes quiet at once.

  KEYS[1] beats  ZSET seq -> last heartbeat (seconds)

  ARGV[1] cutoff (seconds): heartbeats strictly before it are stale
  ARGV[2] limit
  ARGV[3] scan budget (>= limit)

  Returns: seqs (integers), ascending.
]]
local stale = redis.call("ZRANGE", KEYS[1], "-inf", "(" .. ARGV[1], "BYSCORE", "LIMIT", 0, ARGV[3])
local seqs = {}
for i = 1, #stale do
  seqs[i] = tonumber(stale[i])
end
table.sort(seqs)
local found = {}
for i = 1, math.min(#seqs, tonumber(ARGV[2])) do
  found[i] = seqs[i]
end
return found
