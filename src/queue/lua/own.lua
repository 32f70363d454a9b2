-- own.lua: an ingest takes the stream over; any ingest that owned it before is fenced from now.
--
-- KEYS[1]  the stream's knob register
-- ARGV[1]  the new owner token
-- Returns  the last seq whose segment job was enqueued (-1: none), where the new owner resumes.
if not redis.call('HGET', KEYS[1], 'knobs') then return redis.error_reply('stream not registered') end
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
return tonumber(redis.call('HGET', KEYS[1], 'enqueued') or '-1')
