/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The listings, from the model. */
#pragma once

#include "manager.h"

/* Read the device and mount events already queued, so the model starts the
 * refresh they call for before an answer is given from it. */
void lists_flush_feeds(Manager *m);

/* A message filter's part: a GetManagedObjects call that arrives while the
 * model is catching up with events is held (returns 1) and dispatched again
 * once it has (sd_bus_enqueue_for_read); anything else passes (0). */
int lists_hold_until_current(Manager *m, sd_bus_message *message);
