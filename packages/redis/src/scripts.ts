/**
 * The Lua scripts run on the Redis server. Each touches one key (one hash), so it runs
 * atomically and works unchanged on Redis Cluster.
 */

/**
 * Decodes a `google.protobuf.Timestamp` (seconds = 1, nanos = 2) into two Lua numbers.
 * Negative varints (10 bytes, two's complement) are decoded through their complement so
 * that values of magnitude below 2^53 stay exact in Lua's doubles.
 */
const DECODE_TIMESTAMP = `
local function varint(s, i)
  local j = i
  while string.byte(s, j) >= 128 do j = j + 1 end
  local v, mult = 0, 1
  if j - i + 1 == 10 then
    for k = i, i + 8 do
      v = v + (127 - string.byte(s, k) % 128) * mult
      mult = mult * 128
    end
    return -(v + 1), j + 1
  end
  for k = i, j do
    v = v + (string.byte(s, k) % 128) * mult
    mult = mult * 128
  end
  return v, j + 1
end
local function ts(s)
  local sec, nanos, i, n = 0, 0, 1, #s
  while i <= n do
    local tag
    tag, i = varint(s, i)
    local wire = tag % 8
    local field = (tag - wire) / 8
    if wire == 0 then
      local v
      v, i = varint(s, i)
      if field == 1 then sec = v elseif field == 2 then nanos = v end
    elseif wire == 1 then i = i + 8
    elseif wire == 5 then i = i + 4
    elseif wire == 2 then
      local len
      len, i = varint(s, i)
      i = i + len
    else return sec, nanos end
  end
  return sec, nanos
end
`

/**
 * The write rule, atomically per key, for one or more keys of one view. KEYS: the entities'
 * hashes. ARGV: view name, TTL seconds (0 = none), F (number of features), the attempt ('0'
 * first, '1' a retry of a call whose reply was lost: it may have run), the F feature fields,
 * then per key: event Timestamp bytes, created Timestamp bytes ('' = null) and F values.
 * Each key gets `_ts:<view>`, `_created_ts:<view>` and the fields when its row wins
 * (greater event time, or equal and greater created time; a null created time loses and a
 * full tie keeps the stored row). One HMGET reads both stored times, and a stale created
 * time is deleted only when there is one (2 commands per written key, not 3). Keys are
 * handled in order, so a key given twice ends with the winner of the two. Returns how many
 * rows were written; on a retry, a key already holding exactly the row's timestamps counts
 * as written (its first, interrupted attempt wrote it), so the count stays right after a
 * reconnect.
 */
export const WRITE_SCRIPT = `${DECODE_TIMESTAMP}
local view = ARGV[1]
local tsField = '_ts:' .. view
local createdField = '_created_ts:' .. view
local ttl = tonumber(ARGV[2])
local nf = tonumber(ARGV[3])
local retry = ARGV[4] == '1'
local stride = 2 + nf
local base = 5 + nf
local written = 0
for k = 1, #KEYS do
  local key = KEYS[k]
  local o = base + (k - 1) * stride
  local new = ARGV[o]
  local created = ARGV[o + 1]
  local wins = true
  local stored = redis.call('HMGET', key, tsField, createdField)
  local old, oldCreated = stored[1], stored[2]
  if old then
    local s1, n1 = ts(new)
    local s0, n0 = ts(old)
    if s1 < s0 or (s1 == s0 and n1 < n0) then
      wins = false
    elseif s1 == s0 and n1 == n0 then
      if created == '' then
        wins = false
      else
        if oldCreated then
          local c1, cn1 = ts(created)
          local c0, cn0 = ts(oldCreated)
          if c1 < c0 or (c1 == c0 and cn1 <= cn0) then wins = false end
        end
      end
    end
  end
  if wins then
    local args = { tsField, new }
    for j = 1, nf do
      args[2 * j + 1] = ARGV[4 + j]
      args[2 * j + 2] = ARGV[o + 1 + j]
    end
    if created ~= '' then
      args[#args + 1] = createdField
      args[#args + 1] = created
    end
    redis.call('HSET', key, unpack(args))
    if created == '' and oldCreated then redis.call('HDEL', key, createdField) end
    if ttl > 0 then redis.call('EXPIRE', key, ttl) end
    written = written + 1
  elseif retry and old == new then
    if (created == '' and not oldCreated) or oldCreated == created then written = written + 1 end
  end
end
return written
`

/**
 * Removes views from one hash. KEYS[1] = the hash. ARGV: view names, '--', then the feature
 * fields to delete. Deletes `_ts:<view>` and `_created_ts:<view>` of each view and the
 * fields; deletes the whole key when no `_ts:` field is left (no view has data in it, so
 * what remains are fields of features removed from views long ago). Returns 1 if the key
 * held one of the views.
 */
export const DROP_SCRIPT = `
local key = KEYS[1]
local i = 1
local held = 0
local fields = {}
while ARGV[i] ~= '--' do
  if redis.call('HEXISTS', key, '_ts:' .. ARGV[i]) == 1 then held = 1 end
  fields[#fields + 1] = '_ts:' .. ARGV[i]
  fields[#fields + 1] = '_created_ts:' .. ARGV[i]
  i = i + 1
end
for j = i + 1, #ARGV do fields[#fields + 1] = ARGV[j] end
for j = 1, #fields, 1000 do
  redis.call('HDEL', key, unpack(fields, j, math.min(j + 999, #fields)))
end
local names = redis.call('HKEYS', key)
for _, f in ipairs(names) do
  if string.sub(f, 1, 4) == '_ts:' then return held end
end
if #names > 0 then redis.call('DEL', key) end
return held
`
