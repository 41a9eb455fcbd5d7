-- The orders table of the scale recipe, for MariaDB (Galera) and PostgreSQL.
-- order_id is the message id and the primary key: a redelivered order is a
-- duplicate that etl-load-sql --ignore-duplicates skips.
CREATE TABLE orders (
	order_id BIGINT PRIMARY KEY,
	product_id BIGINT NOT NULL,
	quantity INTEGER NOT NULL,
	amount DOUBLE PRECISION NOT NULL,
	shipping DOUBLE PRECISION NOT NULL,
	tax DOUBLE PRECISION NOT NULL,
	total DOUBLE PRECISION NOT NULL,
	shipping_address VARCHAR(800) NOT NULL
);
