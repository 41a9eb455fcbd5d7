/*
 * totals.so - aggregate: orders, quantity and amount per product, emitted
 * by finish() at the end of input in product order.
 *
 *   etl-map totals.so < orders.ndjson
 *   -> {"product_id":1,"orders":3,"quantity":7,"amount":1234.5}
 *
 * Each instance (each -j worker) totals the records it saw; run with -j 1
 * for one total per product.
 */
#include <etl.h>
#include <stdlib.h>

struct total {
	long long orders, quantity;
	double amount;
};

struct totals {
	struct total *by_product;   /* indexed by product_id */
	long long size;
};

enum { MAX_PRODUCT = 1 << 24 };

static int
totals_init(struct etl_context *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc > 0)
		return etl_fail(ctx, "takes no arguments");
	if (!(ctx->state = calloc(1, sizeof(struct totals))))
		return etl_fail(ctx, "out of memory");
	return ETL_OK;
}

static int
totals_map(struct etl_context *ctx, json_t *rec)
{
	struct totals *t = ctx->state;
	json_t *id = json_object_get(rec, "product_id");
	json_t *qty = json_object_get(rec, "quantity");
	json_t *amount = json_object_get(rec, "amount");
	long long p;

	if (!json_is_integer(id) || json_integer_value(id) < 0 ||
	    json_integer_value(id) >= MAX_PRODUCT)
		return etl_reject(ctx, "product_id: not an integer from 0 to %d", MAX_PRODUCT - 1);
	if (!json_is_integer(qty) || !json_is_number(amount))
		return etl_reject(ctx, "quantity and amount must be numbers");
	p = json_integer_value(id);
	if (p >= t->size) {
		long long size = (p + 1) * 2;
		struct total *grown = realloc(t->by_product, size * sizeof *grown);

		if (!grown)
			return etl_fail(ctx, "out of memory");
		for (long long i = t->size; i < size; i++)
			grown[i] = (struct total){ 0, 0, 0 };
		t->by_product = grown;
		t->size = size;
	}
	t->by_product[p].orders++;
	t->by_product[p].quantity += json_integer_value(qty);
	t->by_product[p].amount += json_number_value(amount);
	return ETL_OK;
}

static int
totals_finish(struct etl_context *ctx)
{
	struct totals *t = ctx->state;

	for (long long p = 0; p < t->size; p++) {
		const struct total *s = &t->by_product[p];

		if (s->orders && etl_emit(ctx, json_pack("{sIsIsIsf}", "product_id",
		    (json_int_t)p, "orders", (json_int_t)s->orders, "quantity",
		    (json_int_t)s->quantity, "amount", s->amount)) != ETL_OK)
			return ETL_FAIL;
	}
	return ETL_OK;
}

static void
totals_cleanup(struct etl_context *ctx)
{
	struct totals *t = ctx->state;

	if (t)
		free(t->by_product);
	free(t);
}

ETL_TRANSFORM(
	.name = "totals",
	.description = "totals per product, emitted at the end",
	.init = totals_init,
	.map = totals_map,
	.finish = totals_finish,
	.cleanup = totals_cleanup,
);
