/*
 * total.so - the benchmark's order work, the same as
 *   jq -c '{order_id, total: (.amount + .shipping + .tax), shipping_address}'
 */
#include <etl.h>

static int
total_map(struct etl_context *ctx, json_t *rec)
{
	json_t *out = json_object();

	json_object_set(out, "order_id", json_object_get(rec, "order_id"));
	json_object_set_new(out, "total", json_real(
	    json_number_value(json_object_get(rec, "amount")) +
	    json_number_value(json_object_get(rec, "shipping")) +
	    json_number_value(json_object_get(rec, "tax"))));
	json_object_set(out, "shipping_address",
	    json_object_get(rec, "shipping_address"));
	return etl_emit(ctx, out);
}

ETL_TRANSFORM(.name = "total", .map = total_map);
