-- commit.lua: consume result ARGV[1] once, fenced on seq; publish new knobs when they changed.
--
-- KEYS[1]  the stream's policy hash (state, lastSeq)
-- KEYS[2]  the stream's knob register (knobs, version, validFromSeq, claimed; see claim.lua)
-- KEYS[3]  the stream's update history (list of JSON update records, oldest first)
--          (all three keys are one stream's: on a Redis Cluster they share its {streamId} hash
--          tag, hence one slot, as a script's keys must)
-- ARGV[1]  seq of the result
-- ARGV[2]  the policy state after this result (JSON)
-- ARGV[3]  the knobs the policy chose (JSON), or '' for "no decision"
-- ARGV[4]  the stream id (written into the update record)
-- ARGV[5]  the stream's consumed channel
-- ARGV[6]  the lastSeq the caller read together with the state it stepped from ('' = unchecked)
-- Returns  {0}                     a duplicate or older result (seq <= lastSeq): nothing changed;
--                                  counted in the policy hash's `stale`
--          {2}                     another coordinator committed since the caller read the state
--                                  (compare-and-set failed): nothing changed, read and step again
--          {1}                     consumed; the knobs stay as they are
--          {1, version, fromSeq}   consumed and the knobs changed: update `version`, valid
--                                  from segment `fromSeq`
--
-- Guarantees, all in one atomic step:
--  * each seq is consumed at most once and never after a newer one (lastSeq only grows);
--  * a state is stored only over the one it was computed from (ARGV[6]): two coordinators
--    stepping one stream at once never lose a step;
--  * a knob change bumps `version`, sets validFromSeq = last claimed seq + 1 (the next segment
--    not yet encoded) and appends the update record to KEYS[3];
--  * a consumed result PUBLISHes its seq on ARGV[5] together with the state change, so a
--    waiter that subscribed and then read lastSeq can never miss it (StreamRegister.waitConsumed).
-- The update itself is not PUBLISHed: KEYS[3] is its durable record, and the ingest reads the
-- knobs through claim.lua, never from a message.
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq') or '-1')
local seq = tonumber(ARGV[1])
if seq <= last then
  redis.call('HINCRBY', KEYS[1], 'stale', 1)
  return {0}
end
if ARGV[6] ~= '' and tonumber(ARGV[6]) ~= last then return {2} end
redis.call('HSET', KEYS[1], 'lastSeq', seq, 'state', ARGV[2])
local out = {1}
if ARGV[3] ~= '' and ARGV[3] ~= redis.call('HGET', KEYS[2], 'knobs') then
  local claimed = tonumber(redis.call('HGET', KEYS[2], 'claimed') or '-1')
  local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
  local from = claimed + 1
  redis.call('HSET', KEYS[2], 'knobs', ARGV[3], 'validFromSeq', from)
  local update = cjson.encode({streamId = ARGV[4], version = version, validFromSeq = from, afterSeq = seq, knobs = cjson.decode(ARGV[3])})
  redis.call('RPUSH', KEYS[3], update)
  out = {1, version, from}
end
redis.call('PUBLISH', ARGV[5], ARGV[1])
return out
