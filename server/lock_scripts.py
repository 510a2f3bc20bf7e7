"""The Lua scripts of the Redis conversation lock (server/lock_store.py).

Every change to a conversation's queue is one script, so Redis runs it whole: no other client
reads or writes the queue half-way (Rasa 3.6's ``RedisLockStore`` reads the queue as JSON,
changes it in Python and writes it back, and two workers doing that at once lose a ticket).

Keys (``KEYS``), per conversation:

1. ``q``: a sorted set of tickets, scored by ticket number (``INCR`` of key 3): the queue, in
   the order the tickets were issued; the lowest is served.
2. ``d``: a hash ticket → deadline (Redis's clock, ms). A holder and every waiter push their
   deadline one lease ahead while their process lives; a ticket past its deadline belonged to a
   process that died or stalled, and is dropped when it reaches the head of the queue.
3. ``n``: the ticket counter.

A ticket is ``"<number>:<nonce>"``: the nonce is the caller's own, so a ticket can never be
mistaken for another one after the counter starts again (it is deleted with an empty queue).
All three keys expire one lease after the last write: when every process holding or waiting
dies, nothing is left behind. Time is Redis's (``TIME``), the same for every client.
"""

from __future__ import annotations

_PRELUDE = """
local q, d, n = KEYS[1], KEYS[2], KEYS[3]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The keys live at least one lease longer than the newest deadline.
local function keep(lease)
  if redis.call('PTTL', q) < lease then
    for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, lease) end
  end
end
-- Drop the expired tickets at the head of the queue; return the head left and how many went.
local function purge(now)
  local removed = 0
  while true do
    local head = redis.call('ZRANGE', q, 0, 0)[1]
    if not head then return nil, removed end
    local deadline = tonumber(redis.call('HGET', d, head) or '0')
    if deadline > now then return head, removed end
    redis.call('ZREM', q, head)
    redis.call('HDEL', d, head)
    removed = removed + 1
  end
end
-- Heartbeat of `member` and whether it is served: {1, 0} served, {0, ms until the head's
-- deadline} waiting, {-1, 0} the ticket is gone (it expired and was dropped).
local function turn(member, lease, channel, conversation)
  local now = now_ms()
  local head, removed = purge(now)
  if not head or not redis.call('ZSCORE', q, member) then return {-1, 0} end
  redis.call('HSET', d, member, now + lease)
  keep(lease)
  if head == member then return {1, 0} end
  if removed > 0 then redis.call('PUBLISH', channel, conversation) end
  return {0, tonumber(redis.call('HGET', d, head)) - now}
end
"""

# ARGV: lease ms, nonce, channel, conversation id → {number, ticket, state, wait ms}
ENQUEUE = _PRELUDE + """
local number = redis.call('INCR', n)
local member = number .. ':' .. ARGV[2]
redis.call('ZADD', q, number, member)
redis.call('HSET', d, member, now_ms() + tonumber(ARGV[1]))
local state = turn(member, tonumber(ARGV[1]), ARGV[3], ARGV[4])
return {number, member, state[1], state[2]}
"""

# ARGV: ticket, lease ms, channel, conversation id → {state, wait ms}
TURN = _PRELUDE + """
return turn(ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4])
"""

# ARGV: ticket, lease ms → 1 renewed, 0 the ticket is gone
RENEW = _PRELUDE + """
if not redis.call('ZSCORE', q, ARGV[1]) then return 0 end
local lease = tonumber(ARGV[2])
redis.call('HSET', d, ARGV[1], now_ms() + lease)
keep(lease)
return 1
"""

# ARGV: ticket, channel, conversation id → tickets left. The next in line is woken when the
# head leaves; the keys go with the last ticket.
RELEASE = _PRELUDE + """
local head = redis.call('ZRANGE', q, 0, 0)[1]
redis.call('ZREM', q, ARGV[1])
redis.call('HDEL', d, ARGV[1])
local left = redis.call('ZCARD', q)
if left == 0 then
  redis.call('DEL', q, d, n)
elseif head == ARGV[1] then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return left
"""
