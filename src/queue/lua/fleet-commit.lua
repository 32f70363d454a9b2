-- fleet-commit.lua: store a fleet's new state only over the one it was computed from.
--
-- KEYS[1]  the fleet's hash (budgetKbps, budgetGpuFps, timeoutS, state, version); on a Redis
--          Cluster its key carries the fleet's {fleet:<name>} hash tag
-- ARGV[1]  the version the caller read together with the state it stepped from
-- ARGV[2]  the new state (JSON)
-- Returns  {1, version}  stored; `version` is the new version
--          {0, version}  the fleet changed since it was read (another coordinator's result, or
--                        a budget change): nothing written, read and step again
--
-- Every writer bumps `version` (a budget change too, see FleetRegister.setBudget), so a price
-- step computed against an old budget or an old state is never stored: several coordinators
-- stepping one fleet lose no member's result and count none twice (members are fenced on seq
-- inside the state).
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if tonumber(ARGV[1]) ~= version then return {0, version} end
local next = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return {1, next}
