/*
 * items.so - fan out: an order with line items becomes one record per item,
 * carrying the order's id and the item's position.
 *
 *   {"order_id":7,"items":[{"sku":"a","qty":2},{"sku":"b","qty":1}]}
 *   -> {"order_id":7,"line":1,"sku":"a","qty":2}
 *      {"order_id":7,"line":2,"sku":"b","qty":1}
 */
#include <etl.h>

static int
items_map(struct etl_context *ctx, json_t *rec)
{
	json_t *order_id = json_object_get(rec, "order_id");
	json_t *items = json_object_get(rec, "items"), *item;
	size_t i;

	if (!order_id)
		return etl_reject(ctx, "order_id: missing");
	if (!json_is_array(items))
		return etl_reject(ctx, "items: not an array");
	json_array_foreach(items, i, item) {
		json_t *row;

		if (!json_is_object(item))
			return etl_reject(ctx, "items[%zu]: not an object", i);
		row = json_pack("{sOsI}", "order_id", order_id, "line", (json_int_t)(i + 1));
		json_object_update(row, item);
		if (etl_emit(ctx, row) != ETL_OK)
			return ETL_FAIL;
	}
	return ETL_OK;
}

ETL_TRANSFORM(
	.name = "items",
	.description = "one record per line item of an order",
	.map = items_map,
);
