/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Portability layer of the lamport core: the same sources build into the
 * kernel module and into the host unit tests. Core code uses the kernel's
 * fixed-width types and no library function at all; a 64-bit division by a
 * run-time value goes through one of the helpers below (div_u64()/div_s64()
 * in the kernel, the plain operator in userspace).
 */
#ifndef LAMPORT_CORE_COMPAT_H
#define LAMPORT_CORE_COMPAT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/math64.h>

#define lp_div_u64_u32(a, b)	div_u64((a), (b))
#define lp_div_s64_s32(a, b)	div_s64((a), (b))

#else /* !__KERNEL__ */

#include <stdint.h>
#include <stdbool.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define lp_div_u64_u32(a, b)	((u64)(a) / (u32)(b))
#define lp_div_s64_s32(a, b)	((s64)(a) / (s32)(b))

#endif /* __KERNEL__ */

#endif /* LAMPORT_CORE_COMPAT_H */
