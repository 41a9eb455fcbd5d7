/*
 * order.so - validate an e-commerce order and emit its row for an orders
 * table, with a computed total.
 *
 *   etl-map order.so < orders.ndjson | etl-load-sql -t orders "$DATABASE_URL"
 *
 * order_id, product_id and quantity must be integers; amount, shipping and
 * tax numbers; shipping_address a string of at most 200 characters.  A bad
 * order is rejected with a reason naming the field.  total is rounded to
 * cents.
 */
#include <etl.h>
#include <math.h>
#include <string.h>

static size_t
utf8_characters(const char *s, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xc0) != 0x80;
	return count;
}

static int
order_map(struct etl_context *ctx, json_t *rec)
{
	static const char *integers[] = { "order_id", "product_id", "quantity" };
	static const char *numbers[] = { "amount", "shipping", "tax" };
	const json_t *address = json_object_get(rec, "shipping_address");
	double total = 0;
	json_t *row = json_object();

	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(rec, integers[i]);

		if (!json_is_integer(v)) {
			json_decref(row);
			return etl_reject(ctx, "%s: %s", integers[i],
			    v ? "not an integer" : "missing");
		}
		json_object_set(row, integers[i], v);
	}
	if (json_integer_value(json_object_get(rec, "quantity")) <= 0) {
		json_decref(row);
		return etl_reject(ctx, "quantity: must be at least 1");
	}
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(rec, numbers[i]);

		if (!json_is_number(v)) {
			json_decref(row);
			return etl_reject(ctx, "%s: %s", numbers[i],
			    v ? "not a number" : "missing");
		}
		json_object_set(row, numbers[i], v);
		total += json_number_value(v);
	}
	if (!json_is_string(address)) {
		json_decref(row);
		return etl_reject(ctx, "shipping_address: %s",
		    address ? "not a string" : "missing");
	}
	if (utf8_characters(json_string_value(address), json_string_length(address)) > 200) {
		json_decref(row);
		return etl_reject(ctx, "shipping_address: longer than 200 characters");
	}
	json_object_set_new(row, "total", json_real(round(total * 100) / 100));
	json_object_set(row, "shipping_address", (json_t *)address);
	return etl_emit(ctx, row);
}

ETL_TRANSFORM(
	.name = "order",
	.description = "validate orders and compute their total",
	.map = order_map,
);
