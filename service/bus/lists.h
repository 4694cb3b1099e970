/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The listings, from the model. */
#pragma once

#include "manager.h"

/* Read the device and mount events already queued, so the model starts the
 * refresh they call for before an answer is given from it. */
void lists_flush_feeds(Manager *m);
