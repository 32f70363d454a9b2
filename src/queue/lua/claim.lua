-- claim.lua: mark segment ARGV[1] as being encoded and read the knobs that apply to it.
--
-- KEYS[1]  the stream's knob register (hash: knobs, version, validFromSeq, claimed)
-- ARGV[1]  seq, the segment about to be encoded
-- Returns  {knobs JSON, version, validFromSeq}; an empty reply when the stream is not
--          registered (a Lua table that starts with nil; the hash then holds only `claimed`).
--
-- Guarantees: raising `claimed` (never lowering it) and reading the knobs is one atomic step,
-- so an update committed at the same time (commit.lua, validFromSeq = claimed + 1) either
-- reaches this segment or applies from the next one: it can never reach back to a segment
-- that was already encoded with other knobs.
local claimed = tonumber(redis.call('HGET', KEYS[1], 'claimed') or '-1')
local seq = tonumber(ARGV[1])
if seq > claimed then redis.call('HSET', KEYS[1], 'claimed', seq) end
return {redis.call('HGET', KEYS[1], 'knobs'), redis.call('HGET', KEYS[1], 'version'), redis.call('HGET', KEYS[1], 'validFromSeq')}
