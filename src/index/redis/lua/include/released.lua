-- A released ticket is held in three keys: the released hash (seq -> releasedAt|seenAt|token, seenAt
-- empty until the visitor is first seen), released_at (every released seq) and unseen (not yet seen).

local function releasedEntry(releasedAt, seenAt, token)
  return releasedAt .. "|" .. seenAt .. "|" .. token
end

-- releasedAt, seenAt, token of a released hash value (the token is last: it may be anything).
local function parseReleased(entry)
  local a = string.find(entry, "|", 1, true)
  local b = string.find(entry, "|", a + 1, true)
  return string.sub(entry, 1, a - 1), string.sub(entry, a + 1, b - 1), string.sub(entry, b + 1)
end

-- A sighting of a released ticket: the first one records seenAt and takes the ticket off the unseen set.
-- Returns releasedAt, token, and 1 if this was the first sighting, else 0.
local function seeReleased(releasedKey, unseenKey, seq, entry, now)
  local releasedAt, seenAt, token = parseReleased(entry)
  if seenAt ~= "" then
    return releasedAt, token, 0
  end
  redis.call("HSET", releasedKey, seq, releasedEntry(releasedAt, now, token))
  redis.call("ZREM", unseenKey, seq)
  return releasedAt, token, 1
end
