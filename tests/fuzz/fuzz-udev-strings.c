/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strings read from devices (sysfs attributes through libudev: serials,
 * model names, idVendor, devpath): device_string_clean(), udev's "\x20"
 * encoded ID_MODEL_ENC/ID_VENDOR_ENC through device_string_decode(),
 * usb_parse_hex_id() and usb_port_valid(), and the hostdev XML built from a
 * port and ids. */
#include "config.h"

#include "devxml.h"
#include "fuzz-common.h"
#include "udev-util.h"
#include "usb.h"

static GRegex *port_form;

/* Printable ASCII, at most MAX_DEVICE_STRING, no blank at an end, and
 * cleaning it again changes nothing. */
static void check_clean(const char *s) {
        g_autofree char *clean = device_string_clean(s);
        g_autofree char *again = device_string_clean(clean);
        size_t n = strlen(clean);

        FUZZ_CHECK(device_string_printable(clean));
        for (const char *p = clean; *p; p++)
                FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
        FUZZ_CHECK(n <= MAX_DEVICE_STRING);
        FUZZ_CHECK(n == 0 || (clean[0] != ' ' && clean[n - 1] != ' '));
        FUZZ_CHECK(g_str_equal(clean, again));
        FUZZ_CHECK(device_string_printable(s) == (strspn(s, " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNO"
                                                          "PQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") ==
                                                  strlen(s)));
}

/* Decoded: what cleaning gives (printable ASCII, bounded, no blank at an
 * end), with no two blanks in a row; a text without "\\x" escapes and blank
 * runs decodes to its cleaned self. */
static void check_decode(const char *s) {
        g_autofree char *decoded = device_string_decode(s);
        g_autofree char *clean = device_string_clean(decoded);

        FUZZ_CHECK(g_str_equal(decoded, clean));
        FUZZ_CHECK(strstr(decoded, "  ") == NULL);
        if (!strstr(s, "\\x") && !strstr(s, "  ") && strspn(s, " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNO"
                                                                "PQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") ==
                                                            strlen(s)) {
                g_autofree char *plain = device_string_clean(s);
                FUZZ_CHECK(g_str_equal(decoded, plain));
        }
}

/* "0x46f4" or "46f4": 1-4 hex digits, read back the same from "%04x". */
static void check_hex_id(const char *s) {
        const char *digits = g_str_has_prefix(s, "0x") || g_str_has_prefix(s, "0X") ? s + 2 : s;
        size_t n = strlen(digits);
        gboolean want = n >= 1 && n <= 4 && strspn(digits, "0123456789abcdefABCDEF") == n;
        guint value = G_MAXUINT, again = G_MAXUINT;
        g_autofree char *text = NULL;

        FUZZ_CHECK(usb_parse_hex_id(s, &value) == want);
        if (!want)
                return;
        FUZZ_CHECK(value <= 0xffff);
        text = g_strdup_printf("0x%04x", value);
        FUZZ_CHECK(usb_parse_hex_id(text, &again) && again == value);
}

/* A port is what the regular expression says; its alias makes hostdev XML. */
static void check_port(const char *s) {
        gboolean valid = usb_port_valid(s);
        g_autofree char *alias = NULL;
        g_autofree char *xml = NULL;
        UsbHostdevXmlSpec spec = { .vendor = 0x46f4, .product = 0x0001, .bus = 1, .device = 2 };

        FUZZ_CHECK(valid == g_regex_match(port_form, s, 0, NULL));
        if (!valid)
                return;
        alias = usb_alias_for_port(s);
        spec.alias = alias;
        xml = devxml_build_usb_hostdev(&spec);
        FUZZ_CHECK(xml != NULL && strstr(xml, alias));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        g_autofree char *empty = device_string_clean(NULL);

        fuzz_quiet_logs();
        FUZZ_CHECK(g_str_equal(empty, ""));
        FUZZ_CHECK(!usb_parse_hex_id(NULL, NULL));
        port_form = g_regex_new("^[0-9]{1,3}-[0-9]{1,3}(\\.[0-9]{1,3}){0,7}$", G_REGEX_RAW | G_REGEX_DOLLAR_ENDONLY, 0,
                                NULL);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *s = fuzz_string(data, size);

        check_clean(s);
        check_decode(s);
        check_hex_id(s);
        check_port(s);
        return 0;
}
