-- The table examples/webhooks/receive.sh loads, in PostgreSQL or SQLite.
-- A delivery the sender retries has the same id: the unique column keeps one.
CREATE TABLE webhooks (
	delivery text UNIQUE,
	received_at text,
	path text,
	headers json,
	body json
);
