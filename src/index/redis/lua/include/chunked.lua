-- Long lists go to Redis in pages of PAGE items: unpack() of a long list would overflow Lua's C stack.
-- PAGE is even, so a page never splits a ZADD's (score, member) pair.
local PAGE = 1000

-- `command key [flag] items...` over the whole list, one command per page (flag: e.g. ZADD's "NX").
local function chunked(command, key, list, flag)
  for i = 1, #list, PAGE do
    local last = math.min(i + PAGE - 1, #list)
    if flag then
      redis.call(command, key, flag, unpack(list, i, last))
    else
      redis.call(command, key, unpack(list, i, last))
    end
  end
end
