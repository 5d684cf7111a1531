// SPDX-License-Identifier: GPL-2.0
/*
 * The node's UDP port: one kernel socket per address family, bound to the
 * same port, carrying every lamport message. Received datagrams are taken
 * straight from the UDP receive path (encap_rcv, softirq); messages are sent
 * from softirq context (timers) too, so nothing here may sleep.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "lamport.h"
#include "core/wire.h"
#include "socket.h"

static void lamport_udp_source(struct sk_buff *skb, struct lamport_addr *from)
{
	from->port = udp_hdr(skb)->source;
	if (ip_hdr(skb)->version == 4) {
		from->family = AF_INET;
		from->v4 = ip_hdr(skb)->saddr;
	} else {
		from->family = AF_INET6;
		from->v6 = ipv6_hdr(skb)->saddr;
	}
}

static int lamport_udp_recv(struct sock *sk, struct sk_buff *skb)
{
	struct lamport_addr from;
	struct lamport_net *ln;

	ln = rcu_dereference_sk_user_data(sk);
	if (!ln || !pskb_may_pull(skb, sizeof(struct udphdr))) {
		kfree_skb(skb);
		return 0;
	}
	lamport_count(ln, LAMPORT_NODE_STAT_RX);
	lamport_udp_source(skb, &from);
	__skb_pull(skb, sizeof(struct udphdr));
	lamport_wire_receive(ln, &from, skb);
	return 0;
}

static int lamport_udp_open_one(struct lamport_net *ln, int family,
				const struct lamport_addr *bind,
				struct socket **sockp)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data = ln,
		.encap_type = 1,
		.encap_rcv = lamport_udp_recv,
	};
	struct udp_port_cfg cfg = {
		.family = family,
		.local_udp_port = bind->port,
	};
	int err;

	if (family == AF_INET) {
		if (bind->family == AF_INET)
			cfg.local_ip.s_addr = bind->v4;
	} else {
		cfg.ipv6_v6only = 1;
		if (bind->family == AF_INET6)
			cfg.local_ip6 = bind->v6;
	}
	err = udp_sock_create(ln->net, &cfg, sockp);
	if (err)
		return err;
	(*sockp)->sk->sk_allocation = GFP_ATOMIC;
	setup_udp_tunnel_sock(ln->net, *sockp, &tcfg);
	return 0;
}

static void lamport_udp_release(struct socket __rcu **slot, struct lamport_net *ln)
{
	struct socket *sock = rcu_dereference_protected(*slot,
							lockdep_is_held(&ln->lock));

	if (!sock)
		return;
	RCU_INIT_POINTER(*slot, NULL);
	/* Waits for readers of the slot and of sk_user_data. */
	udp_tunnel_sock_release(sock);
}

void lamport_udp_close(struct lamport_net *ln)
{
	lockdep_assert_held(&ln->lock);

	lamport_udp_release(&ln->sock4, ln);
	lamport_udp_release(&ln->sock6, ln);
	ln->bind.port = 0;
}

/* Opens, without publishing, the sockets for bind (AF_UNSPEC: both). */
static int lamport_udp_open_pair(struct lamport_net *ln,
				 const struct lamport_addr *bind,
				 struct socket **s4, struct socket **s6)
{
	int err = 0;

	*s4 = NULL;
	*s6 = NULL;
	if (bind->family != AF_INET6)
		err = lamport_udp_open_one(ln, AF_INET, bind, s4);
	if (!err && bind->family != AF_INET && ipv6_mod_enabled())
		err = lamport_udp_open_one(ln, AF_INET6, bind, s6);
	if (err && *s4) {
		udp_tunnel_sock_release(*s4);
		*s4 = NULL;
	}
	return err;
}

static void lamport_udp_publish(struct lamport_net *ln,
				const struct lamport_addr *bind,
				struct socket *s4, struct socket *s6)
{
	rcu_assign_pointer(ln->sock4, s4);
	rcu_assign_pointer(ln->sock6, s6);
	ln->bind = *bind;
}

/*
 * Moves the node's port to bind. On failure the node keeps the port it had:
 * the new sockets open before the old ones close, or, when they collide with
 * the old ones, the old ones are put back.
 */
int lamport_udp_open(struct lamport_net *ln, const struct lamport_addr *bind,
		     struct netlink_ext_ack *extack)
{
	struct lamport_addr old = ln->bind;
	struct socket *s4, *s6;
	int err;

	lockdep_assert_held(&ln->lock);

	err = lamport_udp_open_pair(ln, bind, &s4, &s6);
	if (err == -EADDRINUSE && old.port) {
		lamport_udp_close(ln);
		err = lamport_udp_open_pair(ln, bind, &s4, &s6);
		if (err) {
			if (!lamport_udp_open_pair(ln, &old, &s4, &s6))
				lamport_udp_publish(ln, &old, s4, s6);
			goto err;
		}
	} else if (err) {
		goto err;
	}
	lamport_udp_close(ln);
	lamport_udp_publish(ln, bind, s4, s6);
	return 0;

err:
	NL_SET_ERR_MSG(extack, "cannot open the node's UDP port (address or port in use?)");
	return err;
}

/* A buffer for one message of len bytes, with room for every header. */
struct sk_buff *lamport_msg_alloc(unsigned int len, gfp_t gfp)
{
	struct sk_buff *skb = alloc_skb(LAMPORT_HEADROOM + len, gfp);

	if (skb)
		skb_reserve(skb, LAMPORT_HEADROOM);
	return skb;
}

static int lamport_udp_send4(struct lamport_net *ln, struct socket *sock,
			     const struct lamport_addr *to,
			     struct dst_cache *cache, struct sk_buff *skb)
{
	struct flowi4 fl4 = {
		.daddr = to->v4,
		.saddr = ln->bind.family == AF_INET ? ln->bind.v4 : 0,
		.flowi4_proto = IPPROTO_UDP,
		.fl4_dport = to->port,
		.fl4_sport = ln->bind.port,
	};
	struct rtable *rt = cache ? dst_cache_get_ip4(cache, &fl4.saddr) : NULL;

	if (!rt) {
		rt = ip_route_output_key(ln->net, &fl4);
		if (IS_ERR(rt)) {
			kfree_skb(skb);
			return PTR_ERR(rt);
		}
		if (cache)
			dst_cache_set_ip4(cache, &rt->dst, fl4.saddr);
	}
	if (skb_cow_head(skb, LL_RESERVED_SPACE(rt->dst.dev) +
			 sizeof(struct iphdr) + sizeof(struct udphdr))) {
		ip_rt_put(rt);
		kfree_skb(skb);
		return -ENOMEM;
	}
	udp_tunnel_xmit_skb(rt, sock->sk, skb, fl4.saddr, fl4.daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, ln->bind.port,
			    to->port, false, false);
	return 0;
}

static int lamport_udp_send6(struct lamport_net *ln, struct socket *sock,
			     const struct lamport_addr *to,
			     struct dst_cache *cache, struct sk_buff *skb)
{
	struct flowi6 fl6 = {
		.daddr = to->v6,
		.flowi6_proto = IPPROTO_UDP,
		.fl6_dport = to->port,
		.fl6_sport = ln->bind.port,
	};
	struct dst_entry *dst;

	if (ln->bind.family == AF_INET6)
		fl6.saddr = ln->bind.v6;
	dst = cache ? dst_cache_get_ip6(cache, &fl6.saddr) : NULL;
	if (!dst) {
		dst = ipv6_stub->ipv6_dst_lookup_flow(ln->net, sock->sk, &fl6,
						      NULL);
		if (IS_ERR(dst)) {
			kfree_skb(skb);
			return PTR_ERR(dst);
		}
		if (cache)
			dst_cache_set_ip6(cache, dst, &fl6.saddr);
	}
	if (skb_cow_head(skb, LL_RESERVED_SPACE(dst->dev) +
			 sizeof(struct ipv6hdr) + sizeof(struct udphdr))) {
		dst_release(dst);
		kfree_skb(skb);
		return -ENOMEM;
	}
	udp_tunnel6_xmit_skb(dst, sock->sk, skb, NULL, &fl6.saddr, &fl6.daddr,
			     0, ip6_dst_hoplimit(dst), 0, ln->bind.port,
			     to->port, false);
	return 0;
}

/*
 * Sends skb, one whole lamport message, from the node's port; consumes it.
 * cache, when given, keeps the route to "to". Callable from process and
 * softirq context.
 */
int lamport_udp_xmit(struct lamport_net *ln, const struct lamport_addr *to,
		     struct dst_cache *cache, struct sk_buff *skb)
{
	struct socket *sock;
	int err = -ENOTCONN;

	memset(skb->cb, 0, sizeof(skb->cb));
	rcu_read_lock_bh();
	if (to->family == AF_INET)
		sock = rcu_dereference_bh(ln->sock4);
	else
		sock = rcu_dereference_bh(ln->sock6);
	if (!sock)
		kfree_skb(skb);
	else if (to->family == AF_INET)
		err = lamport_udp_send4(ln, sock, to, cache, skb);
	else
		err = lamport_udp_send6(ln, sock, to, cache, skb);
	rcu_read_unlock_bh();

	lamport_count(ln, err ? LAMPORT_NODE_STAT_TX_ERRORS : LAMPORT_NODE_STAT_TX);
	return err;
}

int lamport_udp_send(struct lamport_net *ln, const struct lamport_addr *to,
		     const void *data, unsigned int len)
{
	struct sk_buff *skb = lamport_msg_alloc(len, GFP_ATOMIC);

	if (!skb) {
		lamport_count(ln, LAMPORT_NODE_STAT_TX_ERRORS);
		return -ENOMEM;
	}
	skb_put_data(skb, data, len);
	return lamport_udp_xmit(ln, to, NULL, skb);
}
