/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's block devices as a graph: disks and their partitions, and what
 * is built on what — device-mapper and md devices on their slaves, a loop
 * device on the block device that backs it. Who holds a disk, and what a
 * loop device stands on, are pure questions over this graph; the reader
 * fills it from sysfs (a worker's job: it walks every block device). */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct {
        char *name;          /* kernel name: sdb, sdb1, dm-0, loop3 */
        dev_t devnum;        /* 0 for a node only named by a link */
        char *whole;         /* a partition's disk, else NULL */
        GPtrArray *parts;    /* char*: its partitions */
        GPtrArray *lower;    /* char*: what it is built on (slaves/, a loop's backing device) */
        GPtrArray *upper;    /* char*: what is built on it */
        gboolean internal;   /* a whole disk neither removable nor on a hot-plug bus (usb, mmc, loop) */
} BlockNode;

typedef struct BlockGraph BlockGraph;

BlockGraph *block_graph_new(void);
void block_graph_free(BlockGraph *graph);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlockGraph, block_graph_free)

/* Add (or complete) a node; `whole` names a partition's disk. */
BlockNode *block_graph_add(BlockGraph *graph, const char *name, dev_t devnum, const char *whole);
/* `upper` is built on `lower` (either may be added later). */
void block_graph_link(BlockGraph *graph, const char *upper, const char *lower);

const BlockNode *block_graph_get(const BlockGraph *graph, const char *name);
const BlockNode *block_graph_find_devnum(const BlockGraph *graph, dev_t devnum);

/* Pure: `name` and everything it stands on, transitively, in order (a
 * partition brings its disk): for loop3 on sdb1, "loop3 sdb1 sdb". */
GPtrArray *block_graph_below(const BlockGraph *graph, const char *name);

/* Pure: every node whose data is `names`' data, in order: each name, its
 * partitions, and everything built on any of them, transitively (with their
 * partitions). Borrowed BlockNode*; a name the graph lacks is left out. */
GPtrArray *block_graph_scope(const BlockGraph *graph, const GPtrArray *names);

/* Pure: is `name` one of `names`, or a partition of one? */
gboolean block_graph_within(const BlockGraph *graph, const GPtrArray *names, const char *name);

/* Read every block device under `sys_class_block` (/sys/class/block); a
 * missing folder is a host without block devices. */
BlockGraph *block_graph_read(const char *sys_class_block, GError **error);

/* How many times block_graph_read() ran (tests prove a path does no enumeration). */
guint block_graph_reads(void);
