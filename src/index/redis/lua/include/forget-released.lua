-- Forgets released tickets from the three keys that hold them (see include/released.lua).
-- @include chunked

local function forgetReleased(releasedKey, releasedAtKey, unseenKey, seqs)
  chunked("HDEL", releasedKey, seqs)
  chunked("ZREM", releasedAtKey, seqs)
  chunked("ZREM", unseenKey, seqs)
end
