import { script } from './scripts';

/**
 * The awaited list's keys, in the order every script gets them as KEYS. All of them are declared on
 * every call (a Cluster routes by them and checks them) and share one hash tag, so one slot.
 */
export const AWAITED_KEY_PARTS = [
  'entries',
  'due',
  'leased',
  'until',
  'created',
  'settled',
  'overdue',
  'refs',
] as const;
export type AwaitedKeyPart = (typeof AWAITED_KEY_PARTS)[number];

// Entries are JSON objects in one hash (key → entry). Every number in them is an integer string:
// Lua numbers are doubles that tostring() would print as 1.7e+12, so the scripts compare with
// tonumber() and only ever store strings they were given. `leaseOwner`/`leaseUntil` ride along in
// the JSON and are dropped before a caller sees the entry.
//   due      awaiting, not leased, scored by nextCheckAt: what lease() takes, soonest first
//   leased   awaiting, leased, scored by leaseUntil: back to `due` when the lease lapses
//   until    awaiting, scored by until: ZCARD is the awaiting count (maxEntries), counts() its past
//   created  every entry, scored by -createdAt, so ZRANGE is newest first and ties by key, as in core
//   settled  scored by settledAt, and overdue scored by until: what purge() deletes
//   refs     <provider>\0<reference> → key, for a notice that names only the gateway's reference
const PRELUDE = `
local entries, due, leased, untils, created, settled, overdue, refs =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local null = cjson.null
local function load(key)
  local raw = redis.call('HGET', entries, key)
  if raw then return cjson.decode(raw) end
  return nil
end
local function save(e)
  local raw = cjson.encode(e)
  redis.call('HSET', entries, e.key, raw)
  return raw
end
local function ref_of(e) return e.provider .. string.char(0) .. e.reference end
local function free(e)
  e.leaseOwner = null
  e.leaseUntil = '0'
end
-- Settled or overdue: out of every awaiting index, so lease() and counts() no longer see it.
local function unawait(key)
  redis.call('ZREM', due, key)
  redis.call('ZREM', leased, key)
  redis.call('ZREM', untils, key)
end
`;

// ARGV: the new entry (JSON), maxEntries, its created score. {1, entry} or {0} when full. An entry
// already there is never refused: it is the same payment awaited again.
const ADD = `
local new = cjson.decode(ARGV[1])
local raw = redis.call('HGET', entries, new.key)
if raw then
  local e = cjson.decode(raw)
  if e.state ~= 'awaiting' then return {1, raw} end
  if tonumber(new['until']) > tonumber(e['until']) then
    e['until'] = new['until']
    redis.call('ZADD', untils, e['until'], e.key)
  end
  if e.reference == null and new.reference ~= null then
    e.reference = new.reference
    redis.call('HSET', refs, ref_of(e), e.key)
  end
  return {1, save(e)}
end
if redis.call('ZCARD', untils) >= tonumber(ARGV[2]) then return {0} end
redis.call('ZADD', due, new.nextCheckAt, new.key)
redis.call('ZADD', untils, new['until'], new.key)
redis.call('ZADD', created, ARGV[3], new.key)
if new.reference ~= null then redis.call('HSET', refs, ref_of(new), new.key) end
return {1, save(new)}`;

// ARGV: order key, reference key, reference index ('' when not named), at, by, eventId. The first
// entry found decides, as in core's memory list: a settled one there means nothing to settle.
const SETTLE = `
local function find()
  if ARGV[1] ~= '' then
    local e = load(ARGV[1])
    if e then return e end
  end
  if ARGV[2] == '' then return nil end
  local e = load(ARGV[2])
  if e then return e end
  local key = redis.call('HGET', refs, ARGV[3])
  if key then return load(key) end
  return nil
end
local e = find()
if not e or e.state == 'settled' then return false end
if e.state == 'awaiting' then unawait(e.key) else redis.call('ZREM', overdue, e.key) end
e.state, e.settledAt, e.settledBy, e.eventId = 'settled', ARGV[4], ARGV[5], ARGV[6]
free(e)
redis.call('ZADD', settled, e.settledAt, e.key)
return save(e)`;

// ARGV: now, leaseUntil, owner, limit, dueBy, provider ('' for any). Lapsed leases (on this caller's clock) first go back among
// the due, so the take below sees every free entry in nextCheckAt order.
const LEASE = `
local now = tonumber(ARGV[1])
for _, key in ipairs(redis.call('ZRANGEBYSCORE', leased, '-inf', ARGV[1])) do
  redis.call('ZREM', leased, key)
  local e = load(key)
  if e then redis.call('ZADD', due, e.nextCheckAt, key) end
end
local taken, limit, provider, skipped = {}, tonumber(ARGV[4]), ARGV[6], 0
while #taken < limit do
  local keys = redis.call('ZRANGEBYSCORE', due, '-inf', ARGV[5], 'LIMIT', skipped, limit - #taken)
  if #keys == 0 then break end
  for _, key in ipairs(keys) do
    local e = load(key)
    if e and provider ~= '' and e.provider ~= provider then
      -- Another gateway's entry: left in place, stepped over.
      skipped = skipped + 1
    else
      redis.call('ZREM', due, key)
      if e and tonumber(e.leaseUntil) > now then
        -- Put back by a sweeper whose clock is ahead of this one's: still held on this clock.
        redis.call('ZADD', leased, e.leaseUntil, key)
      elseif e then
        e.leaseOwner, e.leaseUntil = ARGV[3], ARGV[2]
        redis.call('ZADD', leased, ARGV[2], key)
        taken[#taken + 1] = save(e)
      end
    end
  end
end
return taken`;

// ARGV: key, owner, nextCheckAt, checks, lastResult (JSON: a string or null). 1 when rescheduled.
const RESCHEDULE = `
local e = load(ARGV[1])
if not e or e.state ~= 'awaiting' or e.leaseOwner ~= ARGV[2] then return 0 end
e.nextCheckAt, e.checks, e.lastResult = ARGV[3], ARGV[4], cjson.decode(ARGV[5])
free(e)
save(e)
redis.call('ZREM', leased, e.key)
redis.call('ZADD', due, e.nextCheckAt, e.key)
return 1`;

// ARGV: key, lastResult (JSON). The entry when this call made it overdue, else nil.
const EXPIRE = `
local e = load(ARGV[1])
if not e or e.state ~= 'awaiting' then return false end
unawait(e.key)
e.state, e.lastResult, e.settledAt = 'overdue', cjson.decode(ARGV[2]), null
free(e)
redis.call('ZADD', overdue, e['until'], e.key)
return save(e)`;

const GET = `return redis.call('HGET', entries, ARGV[1])`;

// ARGV: state or '', provider or '', limit, budget, cursor key and score ('' at the start). Reads at
// most `budget` entries, newest first, from just after the cursor; a caller after `limit` matches
// among many entries calls again, so no one script holds Redis for long. {matches, last key read,
// its score, 1 when nothing is left to read}. A cursor purged since restarts at its score: the
// entries tied with it come again, and the caller drops what it has already seen.
const LIST = `
local limit, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
local start = 0
if ARGV[5] ~= '' then
  local rank = redis.call('ZRANK', created, ARGV[5])
  if rank then start = rank + 1 else start = redis.call('ZCOUNT', created, '-inf', '(' .. ARGV[6]) end
end
local by_state = {awaiting = untils, settled = settled, overdue = overdue}
local page = redis.call('ZRANGE', created, start, start + budget - 1, 'WITHSCORES')
local found, last, score = {}, '', ''
for i = 1, #page, 2 do
  if #found >= limit then return {found, last, score, 0} end
  last, score = page[i], page[i + 1]
  -- The state from its index, without decoding: only a provider filter needs the entry itself.
  if ARGV[1] == '' or redis.call('ZSCORE', by_state[ARGV[1]], last) then
    local raw = redis.call('HGET', entries, last)
    if raw and (ARGV[2] == '' or cjson.decode(raw).provider == ARGV[2]) then
      found[#found + 1] = raw
    end
  end
end
if #page < 2 * budget then return {found, last, score, 1} end
return {found, last, score, 0}`;

// ARGV: now. {awaiting, overdue, settled}; an awaiting entry whose until has come counts as overdue.
const COUNTS = `
local past = redis.call('ZCOUNT', untils, '-inf', ARGV[1])
return {
  redis.call('ZCARD', untils) - past,
  redis.call('ZCARD', overdue) + past,
  redis.call('ZCARD', settled),
}`;

// ARGV: before, batch. Deletes at most `batch` ended entries, so one call never holds Redis long.
const PURGE = `
local purged, batch = 0, tonumber(ARGV[2])
for _, set in ipairs({settled, overdue}) do
  if purged < batch then
    local keys = redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. ARGV[1], 'LIMIT', 0, batch - purged)
    for _, key in ipairs(keys) do
      local e = load(key)
      -- The reference may name a newer entry since: only this entry's own mapping goes.
      if e and e.reference ~= null and redis.call('HGET', refs, ref_of(e)) == key then
        redis.call('HDEL', refs, ref_of(e))
      end
      redis.call('HDEL', entries, key)
      redis.call('ZREM', set, key)
      redis.call('ZREM', created, key)
      purged = purged + 1
    end
  end
end
return purged`;

const withPrelude = (body: string) => script(PRELUDE + body);

export const AWAITED_SCRIPTS = {
  add: withPrelude(ADD),
  settle: withPrelude(SETTLE),
  lease: withPrelude(LEASE),
  reschedule: withPrelude(RESCHEDULE),
  expire: withPrelude(EXPIRE),
  get: withPrelude(GET),
  list: withPrelude(LIST),
  counts: withPrelude(COUNTS),
  purge: withPrelude(PURGE),
};
