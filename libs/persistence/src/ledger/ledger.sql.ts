/**
 * The ledger's writes as hand-written SQL, shared by the ingest hot path and the
 * staff-facing ledger. Every writer takes locks in one order — chain heads by
 * community id, then residents by id — so no two writers deadlock. Lookups use
 * `= ANY(ARRAY(...))` so a plan prepared on empty tables stays a key lookup
 * (test/query-plans.e2e-spec.ts).
 */

/** $1: community ids (JSON array). */
export const LOCK_CHAIN_HEADS = `
SELECT community_id, chain_seq::text AS chain_seq, hash
FROM ledger_chain_head
WHERE community_id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))
ORDER BY community_id
FOR UPDATE`;

/** $1: resident ids (JSON array). */
export const LOCK_RESIDENTS = `
SELECT id, community_id, balance, pending_points
FROM resident
WHERE id = ANY (ARRAY(SELECT (jsonb_array_elements_text($1::jsonb))::uuid))
ORDER BY id
FOR UPDATE`;

/** The columns of a sealed entry as the writers pass them in JSON. */
export const ENTRY_RECORD = `
    community_id uuid, chain_seq bigint, kind text, debit_account text, credit_account text,
    debit_resident_id uuid, credit_resident_id uuid, amount integer, debit_balance_after integer,
    credit_balance_after integer, source text, device_event_id bigint, pending_entry_id bigint,
    reverses_entry_id bigint, idempotency_key text, actor text, reason text, created_at timestamptz,
    prev_hash text, hash text`;

export const ENTRY_COLUMNS = `community_id, chain_seq, kind, debit_account, credit_account, debit_resident_id,
    credit_resident_id, amount, debit_balance_after, credit_balance_after, source, device_event_id,
    pending_entry_id, reverses_entry_id, idempotency_key, actor, reason, created_at, prev_hash, hash`;

/** ENTRY_COLUMNS read from a jsonb_to_recordset alias, enums cast. */
export const entryValues = (alias: string) =>
  ENTRY_COLUMNS.split(',')
    .map((c) => c.trim())
    .map((c) => (c === 'kind' ? `${alias}.kind::ledger_kind` : c === 'source' ? `${alias}.source::ledger_source` : `${alias}.${c}`))
    .join(', ');

/**
 * A CTE body: residents' new points from a JSON parameter [{id, balance, pending_points}].
 * The `= ANY(ARRAY(...))` condition is what makes it a key lookup: with the join
 * alone, the plan prepared while the table was small joined a scan of every
 * resident (test/query-plans.e2e-spec.ts), and kept doing so as the table grew.
 */
export const updateResidentPoints = (param: string) => `
  UPDATE resident SET balance = p.balance, pending_points = p.pending_points
  FROM jsonb_to_recordset(${param}::jsonb) AS p(id uuid, balance integer, pending_points integer)
  WHERE resident.id = p.id
    AND resident.id = ANY (ARRAY(SELECT (e->>'id')::uuid FROM jsonb_array_elements(${param}::jsonb) AS e))
  RETURNING 1`;

/** A CTE body: chain heads moved on, from a JSON parameter [{community_id, chain_seq, hash}]; a key lookup as above. */
export const updateChainHeads = (param: string) => `
  UPDATE ledger_chain_head SET chain_seq = n.chain_seq, hash = n.hash
  FROM jsonb_to_recordset(${param}::jsonb) AS n(community_id uuid, chain_seq bigint, hash text)
  WHERE ledger_chain_head.community_id = n.community_id
    AND ledger_chain_head.community_id = ANY (ARRAY(SELECT (e->>'community_id')::uuid FROM jsonb_array_elements(${param}::jsonb) AS e))
  RETURNING 1`;

/**
 * $1: sealed entries; $2: residents' new points [{id, balance, pending_points}];
 * $3: chain heads [{community_id, chain_seq, hash}]. Returns the entries' ids.
 */
export const APPEND_ENTRIES = `
WITH e AS (
  INSERT INTO ledger_entry (${ENTRY_COLUMNS})
  SELECT ${entryValues('v')}
  FROM jsonb_to_recordset($1::jsonb) AS v(${ENTRY_RECORD})
  RETURNING id::text AS id, idempotency_key
), r AS (${updateResidentPoints('$2')}
), h AS (${updateChainHeads('$3')}
)
SELECT id, idempotency_key FROM e`;

/** Entries already posted under these idempotency keys: $1 keys (JSON array). */
export const SELECT_BY_IDEMPOTENCY_KEYS = `
SELECT id::text AS id, idempotency_key
FROM ledger_entry
WHERE idempotency_key = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))`;
