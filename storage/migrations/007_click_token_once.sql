-- A tracking token (request id + ad) is charged at most once in its whole
-- lifetime, whatever the token lifetime and whichever node serves the click:
-- PostgreSQL decides. The ledger's memory is only the fast path.
CREATE UNIQUE INDEX ad_clicks_token_charged ON ad_clicks (request_id, ad_id)
  WHERE charged AND request_id <> '';
