-- The orders table of the snapshot (SQLite), made before the rows are loaded.
CREATE TABLE orders (
	order_id INTEGER PRIMARY KEY,
	updated_at TEXT NOT NULL,
	total NUMERIC(10,2)
);
