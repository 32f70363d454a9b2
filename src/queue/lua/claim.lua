-- claim.lua: mark segment ARGV[1] as being encoded and read the knobs that apply to it.
--
-- KEYS[1]  the stream's knob register (hash: knobs, version, validFromSeq, claimed, owner, …)
-- ARGV[1]  seq, the segment about to be encoded
-- ARGV[2]  the claiming ingest's owner token ('' = an unfenced caller)
-- Returns  {knobs JSON, version, validFromSeq, status}; status is
--          'ok'       seq is new: the knobs are the current ones;
--          'reclaim'  seq was claimed before (an ingest resumed mid-segment): the knobs here are
--                     the current ones, which may postdate it; the caller reads the knobs valid
--                     at seq from the update history instead;
--          'fenced'   another ingest owns the stream now: this one must stop;
--          an empty knobs field means the stream is not registered.
--
-- Guarantees: raising `claimed` (never lowering it) and reading the knobs is one atomic step,
-- so an update committed at the same time (commit.lua, validFromSeq = claimed + 1) either
-- reaches this segment or applies from the next one: it can never reach back to a segment
-- that was already encoded with other knobs.
local owner = redis.call('HGET', KEYS[1], 'owner')
if ARGV[2] ~= '' and owner and owner ~= ARGV[2] then
  return {false, false, false, 'fenced'}
end
local claimed = tonumber(redis.call('HGET', KEYS[1], 'claimed') or '-1')
local seq = tonumber(ARGV[1])
local status = 'reclaim'
if seq > claimed then
  redis.call('HSET', KEYS[1], 'claimed', seq)
  status = 'ok'
end
return {redis.call('HGET', KEYS[1], 'knobs'), redis.call('HGET', KEYS[1], 'version'), redis.call('HGET', KEYS[1], 'validFromSeq'), status}
