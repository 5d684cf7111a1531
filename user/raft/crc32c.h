/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as iSCSI, ext4 and
 * SSE4.2 compute it.  Incremental: crc32c(crc32c(0, a, n), b, m) is the CRC
 * of a followed by b, and crc32c(0, "123456789", 9) == 0xE3069283.
 */
#ifndef LAMPORT_RAFT_CRC32C_H
#define LAMPORT_RAFT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif /* LAMPORT_RAFT_CRC32C_H */
