-- enqueued.lua: record that segment ARGV[1]'s job is in the queue (a restart resumes after it).
--
-- KEYS[1]  the stream's knob register
-- ARGV[1]  seq whose segment job was added
-- ARGV[2]  the ingest's owner token ('' = an unfenced caller)
-- Returns  1 when recorded, 0 when another ingest owns the stream (nothing written).
--
-- Guarantees: `enqueued` only rises, and only its owner raises it.
local owner = redis.call('HGET', KEYS[1], 'owner')
if ARGV[2] ~= '' and owner and owner ~= ARGV[2] then return 0 end
local enqueued = tonumber(redis.call('HGET', KEYS[1], 'enqueued') or '-1')
local seq = tonumber(ARGV[1])
if seq > enqueued then redis.call('HSET', KEYS[1], 'enqueued', seq) end
return 1
