// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* parse.c: strict numbers, masks and TX queue lists. */
#include "vmq_test.h"
#include "libvmq.h"

static void test_u32_accepts_plain_decimal(void **state)
{
	__u32 v = 0;

	(void)state;
	assert_int_equal(vmq_parse_u32("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vmq_parse_u32("4095", 4095, &v), 0);
	assert_int_equal(v, 4095);
	assert_int_equal(vmq_parse_u32("4294967295", 0xffffffffU, &v), 0);
	assert_int_equal(v, 0xffffffffU);
}

static void test_u32_rejects_garbage(void **state)
{
	static const char *const bad[] = {
		"12abc", "-1", "+1", " 1", "1 ", "", "0x10", "abc", "1.5"
	};
	__u32 v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vmq_parse_u32(bad[i], 0xffffffffU, &v), -EINVAL);
		assert_int_equal(v, 42); /* untouched on error */
	}
	assert_int_equal(vmq_parse_u32(NULL, 10, &v), -EINVAL);
}

static void test_u32_rejects_out_of_range(void **state)
{
	__u32 v = 42;

	(void)state;
	assert_int_equal(vmq_parse_u32("4096", 4095, &v), -ERANGE);
	assert_int_equal(vmq_parse_u32("4294967296", 0xffffffffU, &v), -ERANGE);
	assert_int_equal(vmq_parse_u32("99999999999999999999999", 0xffffffffU, &v), -ERANGE);
	assert_int_equal(v, 42);
}

static void test_mask(void **state)
{
	__u32 m = 0;

	(void)state;
	assert_int_equal(vmq_parse_mask("0xffff", &m), 0);
	assert_int_equal(m, 0xffff);
	assert_int_equal(vmq_parse_mask("0x00ff0000", &m), 0);
	assert_int_equal(m, 0x00ff0000);
	assert_int_equal(vmq_mask_shift(m), 16);
	assert_int_equal(vmq_parse_mask("255", &m), 0);
	assert_int_equal(m, 255);
	assert_int_equal(vmq_parse_mask("0xffffffff", &m), 0);
	assert_int_equal(vmq_mask_shift(m), 0);
	/* zero, holes, overflow, junk */
	assert_int_equal(vmq_parse_mask("0", &m), -EINVAL);
	assert_int_equal(vmq_parse_mask("0x0f0f", &m), -EINVAL);
	assert_int_equal(vmq_parse_mask("0x100000000", &m), -ERANGE);
	assert_int_equal(vmq_parse_mask("0xfg", &m), -EINVAL);
	assert_int_equal(vmq_parse_mask("0x", &m), -EINVAL);
	assert_int_equal(vmq_parse_mask("-0xff", &m), -EINVAL);
}

static void test_txq_list(void **state)
{
	__u16 txqs[VMQ_GROUP_TXQS_MAX];
	__u16 n = 0;

	(void)state;
	assert_int_equal(vmq_parse_txq_list("1,3,5", txqs, VMQ_GROUP_TXQS_MAX, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(txqs[0], 1);
	assert_int_equal(txqs[1], 3);
	assert_int_equal(txqs[2], 5);
	assert_int_equal(vmq_parse_txq_list("7", txqs, VMQ_GROUP_TXQS_MAX, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(vmq_parse_txq_list("1,,2", txqs, 16, &n), -EINVAL);
	assert_int_equal(vmq_parse_txq_list(",1", txqs, 16, &n), -EINVAL);
	assert_int_equal(vmq_parse_txq_list("1,", txqs, 16, &n), -EINVAL);
	assert_int_equal(vmq_parse_txq_list("", txqs, 16, &n), -EINVAL);
	assert_int_equal(vmq_parse_txq_list("1,2x", txqs, 16, &n), -EINVAL);
	assert_int_equal(vmq_parse_txq_list("1,1", txqs, 16, &n), -EEXIST);
	assert_int_equal(vmq_parse_txq_list("1,2,3", txqs, 2, &n), -E2BIG);
	assert_int_equal(vmq_parse_txq_list("1024", txqs, 16, &n), -ERANGE);
}

static void test_mac(void **state)
{
	static const __u8 want[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	char text[VMQ_MAC_TEXT_LEN];
	__u8 mac[6] = { 0 };

	(void)state;
	assert_int_equal(vmq_parse_mac("52:54:00:AB:cd:ef", mac), 0);
	assert_memory_equal(mac, want, 6);
	vmq_format_mac(mac, text);
	assert_string_equal(text, "52:54:00:ab:cd:ef");
	memset(mac, 0, sizeof(mac));
	assert_int_equal(vmq_parse_mac("52:54:00:ab:cd", mac), -EINVAL);
	assert_int_equal(vmq_parse_mac("52:54:00:ab:cd:ef:01", mac), -EINVAL);
	assert_int_equal(vmq_parse_mac("52-54-00-ab-cd-ef", mac), -EINVAL);
	assert_int_equal(vmq_parse_mac("5:54:00:ab:cd:ef0", mac), -EINVAL);
	assert_int_equal(vmq_parse_mac("52:54:00:ab:cd:eg", mac), -EINVAL);
	assert_int_equal(vmq_parse_mac(" 2:54:00:ab:cd:ef", mac), -EINVAL);
	assert_int_equal(vmq_parse_mac("", mac), -EINVAL);
	assert_int_equal(vmq_parse_mac(NULL, mac), -EINVAL);
	/* Never looked up: the group bit, and no address at all. */
	assert_int_equal(vmq_parse_mac("ff:ff:ff:ff:ff:ff", mac), -EADDRNOTAVAIL);
	assert_int_equal(vmq_parse_mac("01:00:5e:00:00:01", mac), -EADDRNOTAVAIL);
	assert_int_equal(vmq_parse_mac("00:00:00:00:00:00", mac), -EADDRNOTAVAIL);
	/* Refused input changes nothing. */
	assert_memory_equal(mac, (__u8[6]){ 0 }, 6);
}

static void test_vlan(void **state)
{
	__u16 v = 0;

	(void)state;
	assert_int_equal(vmq_parse_vlan("1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(vmq_parse_vlan("4094", &v), 0);
	assert_int_equal(v, 4094);
	assert_int_equal(vmq_parse_vlan("4095", &v), -ERANGE);
	assert_int_equal(vmq_parse_vlan("0", &v), -ERANGE);
	assert_int_equal(vmq_parse_vlan("65536", &v), -ERANGE);
	assert_int_equal(vmq_parse_vlan("-1", &v), -EINVAL);
	assert_int_equal(vmq_parse_vlan("10a", &v), -EINVAL);
	assert_int_equal(v, 4094);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u32_accepts_plain_decimal),
		cmocka_unit_test(test_u32_rejects_garbage),
		cmocka_unit_test(test_u32_rejects_out_of_range),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_txq_list),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_vlan),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
