-- Idempotency-Key of admin money changes (PUT balance, POST advertisers,
-- POST campaigns): recorded in the same transaction as the change, with the
-- change's result rows, so a retry returns the original response. Keys are
-- per principal and kept 24 hours (expired rows are removed by the writer:
-- operational records, not business entities).
CREATE TABLE idempotency_keys (
  principal text NOT NULL,
  idem_key text NOT NULL,
  request_hash text NOT NULL,
  result jsonb NOT NULL,
  activated smallint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  created_user_id text NOT NULL DEFAULT 'system',
  updated_user_id text NOT NULL DEFAULT 'system',
  CONSTRAINT idempotency_keys_pkey PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Records a key, or fails with unique_violation when it was recorded in the
-- last 24 hours (a stale row is taken over).
CREATE FUNCTION adserver_record_idempotency(p_principal text, p_key text, p_hash text,
                                            p_result jsonb) RETURNS void AS $$
BEGIN
  INSERT INTO idempotency_keys (principal, idem_key, request_hash, result, created_user_id,
                                updated_user_id)
  VALUES (p_principal, p_key, p_hash, p_result, p_principal, p_principal)
  ON CONFLICT (principal, idem_key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, result = EXCLUDED.result,
        created_at = now(), updated_at = now(), updated_user_id = EXCLUDED.updated_user_id
    WHERE idempotency_keys.created_at < now() - interval '24 hours';
  IF NOT FOUND THEN
    RAISE unique_violation USING MESSAGE = 'idempotency key ' || p_key || ' is already recorded',
      CONSTRAINT = 'idempotency_keys_pkey';
  END IF;
END
$$ LANGUAGE plpgsql;
