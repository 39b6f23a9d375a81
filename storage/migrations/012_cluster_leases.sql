-- Cluster membership and ledger leases (docs/cluster.md).
--
-- Every node keeps a row here while it runs: a heartbeat pushes expires_at
-- forward; a row whose expires_at has passed belongs to a dead (or paused)
-- node. incarnation tells a restarted node from its previous process.
CREATE TABLE IF NOT EXISTS cluster_members (
  node_id      text PRIMARY KEY,
  incarnation  bigint NOT NULL,
  http_url     text NOT NULL,
  actor_host   text NOT NULL DEFAULT '',
  actor_port   integer NOT NULL DEFAULT 0,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);

-- The lease of an advertiser's ledger lives on the balance row it fences:
-- every money write is a compare-and-set on this row and also requires
-- lease_epoch to be the writer's, under the same row lock, so no takeover can
-- slip between the check and the write. lease_node is the holder (NULL:
-- released); a node takes the lease when it is free, its own, or held by a
-- node whose membership expired, and every take adds one to the epoch.
ALTER TABLE ad_balances ADD COLUMN IF NOT EXISTS lease_node text;
ALTER TABLE ad_balances ADD COLUMN IF NOT EXISTS lease_epoch bigint NOT NULL DEFAULT 0;
-- A node's leases (the sweep of leases it holds without a ledger).
CREATE INDEX IF NOT EXISTS ad_balances_lease_node ON ad_balances (lease_node)
  WHERE lease_node IS NOT NULL;
