/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* devxml_parse_domain(): a domain's XML as libvirt gives it (what the
 * service reads to know which disks and USB devices a VM holds), and what
 * the service does next with it: the next free target, finding a disk by
 * its source, the hostdev XML a detach sends back to libvirt. */
#include "config.h"

#include <libxml/parser.h>

#include "devxml.h"
#include "errors.h"
#include "fuzz-common.h"
#include "usb.h"

static gboolean utf8_or_null(const char *s) {
        return !s || g_utf8_validate(s, -1, NULL);
}

static gboolean target_used(const DomainXml *dom, const char *target) {
        for (guint i = 0; i < dom->disks->len; i++)
                if (g_strcmp0(((DomainDisk *) dom->disks->pdata[i])->target, target) == 0)
                        return TRUE;
        return FALSE;
}

static void check_disk(const DomainXml *dom, const DomainDisk *d) {
        const DomainDisk *found;

        FUZZ_CHECK(utf8_or_null(d->type) && utf8_or_null(d->device) && utf8_or_null(d->source));
        FUZZ_CHECK(utf8_or_null(d->target) && utf8_or_null(d->bus) && utf8_or_null(d->alias));
        FUZZ_CHECK(utf8_or_null(d->serial));
        if (!d->source)
                return;
        found = domain_xml_find_disk(dom, d->source);
        FUZZ_CHECK(found && g_str_equal(found->source, d->source));
}

/* The XML a detach of this hostdev sends libvirt is well-formed. */
static void check_hostdev(const DomainUsbHostdev *h) {
        g_autofree char *xml = usb_hostdev_xml_from_domain(h);
        xmlDocPtr doc;

        FUZZ_CHECK(utf8_or_null(h->vendor) && utf8_or_null(h->product) && utf8_or_null(h->alias));
        if (!xml)
                return;
        doc = xmlReadMemory(xml, (int) strlen(xml), "hostdev.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
        FUZZ_CHECK(doc != NULL);
        FUZZ_CHECK(g_str_equal((const char *) xmlDocGetRootElement(doc)->name, "hostdev"));
        xmlFreeDoc(doc);
}

static void check_domain(const DomainXml *dom) {
        g_autofree char *next = NULL;

        FUZZ_CHECK(dom->disks && dom->usb_hostdevs);
        FUZZ_CHECK(utf8_or_null(dom->name) && utf8_or_null(dom->uuid));
        for (guint i = 0; i < dom->disks->len; i++)
                check_disk(dom, dom->disks->pdata[i]);
        for (guint i = 0; i < dom->usb_hostdevs->len; i++)
                check_hostdev(dom->usb_hostdevs->pdata[i]);
        next = devxml_next_target(dom);
        FUZZ_CHECK(next || dom->disks->len >= 26 * 27 - 1);
        if (next) {
                FUZZ_CHECK(devxml_target_valid(next) && !g_str_equal(next, "vda"));
                FUZZ_CHECK(!target_used(dom, next));
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet_logs();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *xml = fuzz_string(data, size);
        g_autoptr(GError) error = NULL;
        g_autoptr(DomainXml) dom = devxml_parse_domain(xml, &error);

        if (!dom) {
                FUZZ_CHECK(g_error_matches(error, PT_ERROR, PT_ERROR_FAILED));
                FUZZ_CHECK(g_utf8_validate(error->message, -1, NULL));
                return 0;
        }
        FUZZ_CHECK(error == NULL);
        check_domain(dom);
        return 0;
}
