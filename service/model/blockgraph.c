/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "blockgraph.h"
#include "errors.h"

#define MAX_NODES 65536

struct BlockGraph {
        GHashTable *by_name;     /* name -> BlockNode* (owned) */
        GHashTable *by_devnum;   /* guint64 devnum -> BlockNode* */
};

static gint reads;

guint block_graph_reads(void) {
        return (guint) g_atomic_int_get(&reads);
}

static void node_free(BlockNode *node) {
        g_free(node->name);
        g_free(node->whole);
        g_ptr_array_unref(node->parts);
        g_ptr_array_unref(node->lower);
        g_ptr_array_unref(node->upper);
        g_free(node);
}

BlockGraph *block_graph_new(void) {
        BlockGraph *graph = g_new0(BlockGraph, 1);

        graph->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) node_free);
        graph->by_devnum = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        return graph;
}

void block_graph_free(BlockGraph *graph) {
        if (!graph)
                return;
        g_hash_table_unref(graph->by_devnum);
        g_hash_table_unref(graph->by_name);
        g_free(graph);
}

static void add_name(GPtrArray *names, const char *name) {
        for (guint i = 0; i < names->len; i++)
                if (g_str_equal(names->pdata[i], name))
                        return;
        g_ptr_array_add(names, g_strdup(name));
}

static BlockNode *node_get(BlockGraph *graph, const char *name) {
        BlockNode *node = g_hash_table_lookup(graph->by_name, name);

        if (node)
                return node;
        node = g_new0(BlockNode, 1);
        node->name = g_strdup(name);
        node->parts = g_ptr_array_new_with_free_func(g_free);
        node->lower = g_ptr_array_new_with_free_func(g_free);
        node->upper = g_ptr_array_new_with_free_func(g_free);
        g_hash_table_insert(graph->by_name, node->name, node);
        return node;
}

BlockNode *block_graph_add(BlockGraph *graph, const char *name, dev_t devnum, const char *whole) {
        BlockNode *node = node_get(graph, name);

        if (devnum && !node->devnum) {
                guint64 key = devnum;

                node->devnum = devnum;
                g_hash_table_insert(graph->by_devnum, g_memdup2(&key, sizeof(key)), node);
        }
        if (whole && !node->whole) {
                node->whole = g_strdup(whole);
                add_name(node_get(graph, whole)->parts, name);
        }
        return node;
}

void block_graph_link(BlockGraph *graph, const char *upper, const char *lower) {
        if (g_str_equal(upper, lower))
                return;
        add_name(node_get(graph, upper)->lower, lower);
        add_name(node_get(graph, lower)->upper, upper);
}

const BlockNode *block_graph_get(const BlockGraph *graph, const char *name) {
        return name ? g_hash_table_lookup(graph->by_name, name) : NULL;
}

const BlockNode *block_graph_find_devnum(const BlockGraph *graph, dev_t devnum) {
        guint64 key = devnum;

        return devnum ? g_hash_table_lookup(graph->by_devnum, &key) : NULL;
}

/* ---- the pure questions ---- */

static gboolean visit(GHashTable *seen, const char *name) {
        if (g_hash_table_contains(seen, name))
                return FALSE;
        g_hash_table_add(seen, (gpointer) name);
        return TRUE;
}

GPtrArray *block_graph_below(const BlockGraph *graph, const char *name) {
        GPtrArray *below = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        g_ptr_array_add(below, g_strdup(name));
        g_hash_table_add(seen, below->pdata[0]);
        /* Breadth first over a growing list: each node once, cycles end. */
        for (guint i = 0; i < below->len; i++) {
                const BlockNode *node = block_graph_get(graph, below->pdata[i]);

                if (!node)
                        continue;
                if (node->whole && visit(seen, node->whole))
                        g_ptr_array_add(below, g_strdup(node->whole));
                for (guint j = 0; j < node->lower->len; j++)
                        if (visit(seen, node->lower->pdata[j]))
                                g_ptr_array_add(below, g_strdup(node->lower->pdata[j]));
        }
        return below;
}

static void scope_add(GPtrArray *scope, GHashTable *seen, const BlockGraph *graph, const char *name) {
        const BlockNode *node = block_graph_get(graph, name);

        if (node && visit(seen, node->name))
                g_ptr_array_add(scope, (gpointer) node);
}

GPtrArray *block_graph_scope(const BlockGraph *graph, const GPtrArray *names) {
        GPtrArray *scope = g_ptr_array_new();
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

        for (guint i = 0; i < names->len; i++)
                scope_add(scope, seen, graph, names->pdata[i]);
        for (guint i = 0; i < scope->len; i++) {
                const BlockNode *node = scope->pdata[i];

                for (guint j = 0; j < node->parts->len; j++)
                        scope_add(scope, seen, graph, node->parts->pdata[j]);
                for (guint j = 0; j < node->upper->len; j++)
                        scope_add(scope, seen, graph, node->upper->pdata[j]);
        }
        return scope;
}

gboolean block_graph_within(const BlockGraph *graph, const GPtrArray *names, const char *name) {
        const BlockNode *node = block_graph_get(graph, name);

        for (guint i = 0; i < names->len; i++)
                if (g_str_equal(names->pdata[i], name) || (node && g_strcmp0(node->whole, names->pdata[i]) == 0))
                        return TRUE;
        return FALSE;
}

/* ---- reading sysfs ---- */

static char *read_attr(const char *dir, const char *attr) {
        g_autofree char *path = g_build_filename(dir, attr, NULL);
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL))
                return NULL;
        return g_strstrip(text);
}

static dev_t parse_devnum(const char *text) {
        guint maj = 0, min = 0;

        if (!text || sscanf(text, "%u:%u", &maj, &min) != 2)
                return 0;
        return makedev(maj, min);
}

static gboolean on_hotplug_bus(const char *name, const char *real) {
        return g_str_has_prefix(name, "loop") || g_str_has_prefix(name, "mmcblk") ||
               (real && strstr(real, "/usb") != NULL);
}

static void read_node(BlockGraph *graph, const char *root, const char *name, GHashTable *loops) {
        g_autofree char *dir = g_build_filename(root, name, NULL);
        g_autofree char *real = realpath(dir, NULL);
        g_autofree char *devtext = read_attr(dir, "dev");
        g_autofree char *partition = read_attr(dir, "partition");
        g_autofree char *up = partition ? g_path_get_dirname(real) : NULL;
        g_autofree char *parent = up ? g_path_get_basename(up) : NULL;
        g_autofree char *slaves_dir = g_build_filename(dir, "slaves", NULL);
        g_autoptr(GDir) slaves = g_dir_open(slaves_dir, 0, NULL);
        const char *slave;
        BlockNode *node;

        node = block_graph_add(graph, name, parse_devnum(devtext), parent);
        while (slaves && (slave = g_dir_read_name(slaves)))
                block_graph_link(graph, name, slave);
        if (!partition) {
                g_autofree char *removable = read_attr(dir, "removable");

                node->internal = g_strcmp0(removable, "1") != 0 && !on_hotplug_bus(name, real);
        }
        if (g_str_has_prefix(name, "loop")) {
                char *backing = read_attr(dir, "loop/backing_file");

                if (backing)
                        g_hash_table_insert(loops, g_strdup(name), backing);
        }
}

/* A loop device stands on the block device that backs it; one backed by a
 * regular file stands on nothing here (its file system's use is the host's). */
static void link_loops(BlockGraph *graph, GHashTable *loops) {
        GHashTableIter iter;
        gpointer name, backing;
        struct stat st;

        g_hash_table_iter_init(&iter, loops);
        while (g_hash_table_iter_next(&iter, &name, &backing)) {
                const BlockNode *lower;

                if (stat(backing, &st) < 0 || !S_ISBLK(st.st_mode))
                        continue;
                lower = block_graph_find_devnum(graph, st.st_rdev);
                if (lower)
                        block_graph_link(graph, name, lower->name);
        }
}

BlockGraph *block_graph_read(const char *sys_class_block, GError **error) {
        g_autoptr(GDir) dir = g_dir_open(sys_class_block, 0, NULL);
        g_autoptr(BlockGraph) graph = block_graph_new();
        g_autoptr(GHashTable) loops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        const char *name;
        guint count = 0;

        g_atomic_int_inc(&reads);
        if (!dir)   /* no block devices at all (a container, a umockdev testbed) */
                return g_steal_pointer(&graph);
        while ((name = g_dir_read_name(dir)) && count++ < MAX_NODES)
                read_node(graph, sys_class_block, name, loops);
        link_loops(graph, loops);
        return g_steal_pointer(&graph);
}
