/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model's objects on the bus (ObjectManager, one object per disk, USB
 * device and domain) and the signals its changes become. */
#pragma once

#include "manager.h"
#include "model.h"

/* Export the object manager, the fallback vtables and node enumerators. */
int objects_register(Manager *m);

/* What the model calls when it changed: signals on m->bus. */
ModelHandlers objects_handlers(Manager *m);

/* Append the object's properties as an a{sv} (what its interface shows). */
int objects_append_dict(sd_bus_message *reply, ModelKind kind, gconstpointer object);
