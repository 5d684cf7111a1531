// SPDX-License-Identifier: GPL-2.0
/*
 * CRC-32C by slicing: eight tables of 256 entries, built at first use, let
 * one step fold eight bytes.  Table k maps a byte to its CRC followed by k
 * zero bytes, so the eight lookups of a step can be XORed together.
 */

#include <pthread.h>

#include "crc32c.h"

#define CRC32C_POLY	0x82F63B78u

static uint32_t crc32c_tab[8][256];
static pthread_once_t crc32c_tab_once = PTHREAD_ONCE_INIT;

static void crc32c_tab_init(void)
{
	unsigned int n, k;
	uint32_t c;

	for (n = 0; n < 256; n++) {
		c = n;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (c & 1 ? CRC32C_POLY : 0);
		crc32c_tab[0][n] = c;
	}
	for (k = 1; k < 8; k++) {
		for (n = 0; n < 256; n++) {
			c = crc32c_tab[k - 1][n];
			crc32c_tab[k][n] = (c >> 8) ^ crc32c_tab[0][c & 0xff];
		}
	}
}

static inline uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc32c_fold8(uint32_t crc, const uint8_t *p)
{
	uint32_t lo = crc ^ load_le32(p);
	uint32_t hi = load_le32(p + 4);

	return crc32c_tab[7][lo & 0xff] ^ crc32c_tab[6][(lo >> 8) & 0xff] ^
	       crc32c_tab[5][(lo >> 16) & 0xff] ^ crc32c_tab[4][lo >> 24] ^
	       crc32c_tab[3][hi & 0xff] ^ crc32c_tab[2][(hi >> 8) & 0xff] ^
	       crc32c_tab[1][(hi >> 16) & 0xff] ^ crc32c_tab[0][hi >> 24];
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc32c_tab_once, crc32c_tab_init);
	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8)
		crc = crc32c_fold8(crc, p);
	while (len--)
		crc = (crc >> 8) ^ crc32c_tab[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
