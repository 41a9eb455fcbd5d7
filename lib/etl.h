/*
 * etl.h - write a transform for etl-map.
 *
 * A transform is a shared object exporting one descriptor, made with
 * ETL_TRANSFORM.  etl-map checks its ABI version at load time, gives each
 * worker thread its own instance (ctx->state), and calls:
 *
 *   init(ctx, argc, argv)  once per instance, with the arguments after the
 *                          .so; optional.  Non-zero: etl-map stops (78).
 *   map(ctx, record)       for every record; required.
 *   finish(ctx)            at the end of input: may still emit; optional.
 *   cleanup(ctx)           last; free ctx->state here; optional.
 *
 * Reference counting (jansson):
 *   - map's RECORD is borrowed: etl-map releases it after map returns.
 *     To pass it on, emit json_incref(record); to change it, change it and
 *     emit json_incref(record).
 *   - etl_emit STEALS the reference you give it: emit a new object
 *     (json_object(), json_pack("{s:i}", …)) or json_incref an existing one.
 *
 * map returns ETL_OK, or the value of etl_reject() (this record is bad:
 * it goes to the reject file, or stops the run with exit 65), or of
 * etl_fail() (the run stops with exit 70).  Records emitted for a record
 * that is then rejected are dropped.
 *
 *	#include <etl.h>
 *	static int add_total(struct etl_context *ctx, json_t *rec) {
 *		json_t *a = json_object_get(rec, "amount");
 *		if (!json_is_number(a))
 *			return etl_reject(ctx, "amount: not a number");
 *		json_object_set_new(rec, "total", json_real(json_number_value(a) * 1.2));
 *		return etl_emit(ctx, json_incref(rec));
 *	}
 *	ETL_TRANSFORM(.name = "total", .map = add_total);
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags etl) total.c -o total.so
 */
#ifndef ETL_H
#define ETL_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>

#define ETL_ABI_VERSION 1

enum { ETL_OK = 0, ETL_REJECT = 1, ETL_FAIL = -1 };

struct etl_context;

/* What etl-map offers a transform: reached through the inline functions
 * below, so a transform never links against etl-map itself. */
struct etl_host {
	size_t size;   /* sizeof(struct etl_host): fields are only ever added */
	int (*emit)(struct etl_context *ctx, json_t *record);
	void (*set_reason)(struct etl_context *ctx, int kind, const char *fmt,
	    va_list ap);
	const char *(*where)(struct etl_context *ctx);
};

struct etl_context {
	const struct etl_host *host;
	void *state;   /* the instance's own: set it in init, free it in cleanup */
};

struct etl_transform {
	size_t size;             /* sizeof(struct etl_transform) when built */
	unsigned abi_version;    /* ETL_ABI_VERSION when built */
	const char *name;
	const char *description;
	int (*init)(struct etl_context *ctx, int argc, char **argv);
	int (*map)(struct etl_context *ctx, json_t *record);
	int (*finish)(struct etl_context *ctx);
	void (*cleanup)(struct etl_context *ctx);
};

/* The descriptor etl-map looks for: ETL_TRANSFORM(.name = …, .map = …); */
#define ETL_TRANSFORM(...)                                              \
	const struct etl_transform etl_transform = {                    \
		.size = sizeof(struct etl_transform),                   \
		.abi_version = ETL_ABI_VERSION, __VA_ARGS__             \
	}

/* Hand RECORD (a JSON object; its reference is stolen) to the output. */
static inline int
etl_emit(struct etl_context *ctx, json_t *record)
{
	return ctx->host->emit(ctx, record);
}

/* Reject the current record with a reason; return its value from map. */
static inline int
etl_reject(struct etl_context *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctx->host->set_reason(ctx, ETL_REJECT, fmt, ap);
	va_end(ap);
	return ETL_REJECT;
}

/* Stop the whole run with a message; return its value from any callback. */
static inline int
etl_fail(struct etl_context *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctx->host->set_reason(ctx, ETL_FAIL, fmt, ap);
	va_end(ap);
	return ETL_FAIL;
}

/* Where the current record came from: "stdin:42", for messages. */
static inline const char *
etl_where(struct etl_context *ctx)
{
	return ctx->host->where(ctx);
}

#endif
