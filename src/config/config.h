/*
 * config.h - pane.yaml: YAML tree, ${ENV} expansion, declarative binding.
 *
 * Loading turns the file into a tree of nodes (maps, sequences, scalars),
 * each remembering its line and its dotted path ("sources.render.api_key",
 * "scrape.targets[2].url"), with every `${VAR}` / `${VAR:-default}` already
 * expanded from the environment (`$$` is a literal `$`). An unset variable
 * without a default fails the load.
 *
 * Each part then *binds* its own section to a struct with a table of
 * pane_cfg_field rows (key, type, offset, default, flags, help), Fluent Bit
 * style. Binding parses and range-checks values, fills defaults, refuses
 * unknown keys, and insists that SECRET fields come from the environment.
 * Every error names the place:  pane.yaml:12: sources.render.api_key: required
 *
 * Ownership: the pane_cfg owns the tree; nodes are borrowed and live until
 * pane_cfg_free(). Strings bound into a struct are heap copies owned by that
 * struct; pane_cfg_unbind() frees them.
 */
#ifndef PANE_CONFIG_CONFIG_H
#define PANE_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum pane_cfg_kind { PANE_CFG_NULL, PANE_CFG_SCALAR, PANE_CFG_MAP, PANE_CFG_SEQ };

struct pane_cfg_node {
	enum pane_cfg_kind kind;
	int line;                     /* 1-based line in the file */
	char *key;                    /* key in the parent map, NULL for sequence items and the root */
	char *path;                   /* dotted path from the root, "" for the root */
	char *value;                  /* scalar text after expansion (NULL unless SCALAR) */
	bool from_env;                /* the scalar was exactly one ${VAR} reference */
	int vline, vcol;              /* 1-based line and column where the value itself starts */
	struct pane_cfg_node **items; /* map entries in file order, or sequence items */
	size_t n_items;
};

struct pane_cfg {
	char *file;                 /* name used in messages */
	struct pane_cfg_node *root; /* always a MAP (empty for an empty file) */
};

/* Limits that keep a hostile or broken file from costing unbounded memory. */
#define PANE_CFG_MAX_BYTES (4u << 20)
#define PANE_CFG_MAX_DEPTH 32
#define PANE_CFG_MAX_NODES 100000

/* Reads and parses a file. NULL on failure with err set ("FILE:LINE: ..."). */
struct pane_cfg *pane_cfg_load(const char *path, struct pane_err *err);
/* Parses text; name is used in messages. NULL on failure with err set. */
struct pane_cfg *pane_cfg_parse(const char *name, const char *text, size_t len, struct pane_err *err);
/* An empty configuration (root = empty map), for running on defaults. */
struct pane_cfg *pane_cfg_empty(void);
/* Like pane_cfg_parse/pane_cfg_load but scalars are kept verbatim (no ${ENV}
 * expansion): for files that are not pane.yaml (rule files, rule tests). */
struct pane_cfg *pane_cfg_parse_raw(const char *name, const char *text, size_t len, struct pane_err *err);
struct pane_cfg *pane_cfg_load_raw(const char *path, struct pane_err *err);
void pane_cfg_free(struct pane_cfg *cfg);

/* Direct child of a MAP node by key, or NULL (also when map is NULL). */
const struct pane_cfg_node *pane_cfg_get(const struct pane_cfg_node *map, const char *key);
/* Descends a dotted path of map keys ("server.listen"), or NULL. */
const struct pane_cfg_node *pane_cfg_lookup(const struct pane_cfg_node *node, const char *dotted);

/* Sets err to "FILE:LINE: PATH: message" for a node and returns PANE_EINVAL. */
int pane_cfg_error(const struct pane_cfg *cfg, const struct pane_cfg_node *node, struct pane_err *err, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

enum pane_cfg_type {
	PANE_CFT_STRING,   /* char *  (heap copy; NULL when absent without default) */
	PANE_CFT_INT,      /* int64_t (min/max checked when min < max) */
	PANE_CFT_DOUBLE,   /* double */
	PANE_CFT_BOOL,     /* bool: true/false/yes/no/on/off */
	PANE_CFT_DURATION, /* int64_t milliseconds: "30s", "5m", "7d" */
	PANE_CFT_SIZE,     /* int64_t bytes: "10MB", "512KiB", "1GB", plain number = bytes */
	PANE_CFT_STRLIST,  /* struct pane_cfg_strlist; a scalar "a,b" or a sequence */
	PANE_CFT_SECTION,  /* not bound: a sub-map or list the caller reads itself */
};

enum {
	PANE_CFG_REQUIRED = 1 << 0, /* missing key is an error */
	PANE_CFG_SECRET = 1 << 1,   /* must be written as ${VAR}: secrets only from the environment */
};

struct pane_cfg_strlist {
	char **items;
	size_t n;
};

struct pane_cfg_field {
	const char *key;
	enum pane_cfg_type type;
	size_t offset;   /* offsetof(struct ..., member) */
	const char *def; /* default as text, parsed like a value; NULL for none */
	unsigned flags;
	const char *help; /* one line, for docs and --help */
	int64_t min, max; /* for INT/DURATION/SIZE when min < max */
};

/* Binds map (which may be NULL: all defaults) into obj using a table ended
 * by a row with key == NULL. Unknown keys in map are an error. On failure obj
 * may be partly filled; call pane_cfg_unbind() either way. */
int pane_cfg_bind(const struct pane_cfg *cfg, const struct pane_cfg_node *map, const struct pane_cfg_field *fields,
                  void *obj, struct pane_err *err);
/* Frees the strings and lists a bind stored in obj. */
void pane_cfg_unbind(const struct pane_cfg_field *fields, void *obj);

/* Value parsers shared with the CLI: 0 or PANE_EINVAL. */
int pane_cfg_parse_bool(const char *s, bool *out);
int pane_cfg_parse_size(const char *s, int64_t *out);

/* Expands ${VAR}, ${VAR:-default} and $$ in s using getenv. Returns a heap
 * string (caller frees) or NULL with err naming the variable. *whole_ref is
 * set when s was exactly one ${VAR} reference. */
char *pane_cfg_expand_env(const char *s, bool *whole_ref, struct pane_err *err);

#endif
