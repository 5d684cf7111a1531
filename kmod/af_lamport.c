// SPDX-License-Identifier: GPL-2.0
/*
 * AF_LAMPORT: message sockets whose every message carries the sending
 * socket's Lamport clock. This file is the family itself: creation, ports,
 * the clock, the calls every socket type shares. msg.c sends and receives
 * SOCK_DGRAM; rdm.c makes SOCK_RDM reliable on top of the same path.
 *
 * Sockets are found by port under RCU from softirq; they are freed after a
 * grace period (SOCK_RCU_FREE), so a lookup needs no reference.
 */

#include <linux/module.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/sockios.h>
#include <asm/ioctls.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "lamport.h"
#include "socket.h"
#include "trace.h"

static int lamport_family = AF_LAMPORT_DEFAULT;
module_param_named(family, lamport_family, int, 0444);
MODULE_PARM_DESC(family, "address family number of AF_LAMPORT (default 19, AF_ECONET's retired slot)");

static struct proto lamport_proto = {
	.name = "LAMPORT",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct lamport_sock),
};

static u32 lamport_port_key(int type, u16 port)
{
	return (u32)type << 16 | port;
}

struct lamport_sock *lamport_sock_lookup(struct lamport_net *ln, int type,
					 u16 port)
{
	struct lamport_sock *lsk;

	hash_for_each_possible_rcu(ln->ports, lsk, port_node,
				   lamport_port_key(type, port),
				   lockdep_is_held(&ln->sock_lock)) {
		if (lsk->port == port && lsk->sk.sk_type == type)
			return lsk;
	}
	return NULL;
}

static int lamport_port_take(struct lamport_sock *lsk, u16 port)
{
	struct lamport_net *ln = lsk->ln;
	int type = lsk->sk.sk_type;
	u32 range, start, i;

	lockdep_assert_held(&ln->sock_lock);

	if (!port) {
		range = LAMPORT_PORT_EPHEMERAL_MAX - LAMPORT_PORT_EPHEMERAL_MIN + 1;
		start = get_random_u32_below(range);
		for (i = 0; i < range; i++) {
			port = LAMPORT_PORT_EPHEMERAL_MIN + (start + i) % range;
			if (!lamport_sock_lookup(ln, type, port))
				break;
		}
		if (i == range)
			return -EADDRINUSE;
	} else if (lamport_sock_lookup(ln, type, port)) {
		return -EADDRINUSE;
	}
	WRITE_ONCE(lsk->port, port);
	hash_add_rcu(ln->ports, &lsk->port_node, lamport_port_key(type, port));
	return 0;
}

/* Binds the socket to port (0: any free one) on this node. */
static int lamport_bind_port(struct lamport_sock *lsk, u16 port)
{
	struct lamport_net *ln = lsk->ln;
	int err;

	sock_owned_by_me(&lsk->sk);

	if (lsk->port)
		return -EINVAL;
	if (!lamport_node_id(ln))
		return -EADDRNOTAVAIL;
	if (port && port < LAMPORT_PORT_PRIVILEGED &&
	    !ns_capable(ln->net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;
	spin_lock_bh(&ln->sock_lock);
	err = lamport_port_take(lsk, port);
	spin_unlock_bh(&ln->sock_lock);
	return err;
}

u64 lamport_clock_tick(struct lamport_sock *lsk)
{
	return atomic64_inc_return(&lsk->clock);
}

/* The receive rule: clock = max(clock, stamp) + 1. */
static u64 lamport_clock_merge(struct lamport_sock *lsk, u64 stamp)
{
	s64 old = atomic64_read(&lsk->clock), new;

	do {
		new = max_t(u64, old, stamp) + 1;
	} while (!atomic64_try_cmpxchg(&lsk->clock, &old, new));
	return new;
}

static int lamport_check_addr(const struct sockaddr_lamport *sa, int len)
{
	if (!sa || len < (int)sizeof(*sa) || sa->slam_family != lamport_family)
		return -EINVAL;
	return 0;
}

static int lamport_bind(struct socket *sock, struct sockaddr *uaddr, int len)
{
	struct sockaddr_lamport *sa = (struct sockaddr_lamport *)uaddr;
	struct lamport_sock *lsk = lamport_sk(sock->sk);
	u32 id = lamport_node_id(lsk->ln);
	int err;

	err = lamport_check_addr(sa, len);
	if (err)
		return err;
	if (sa->slam_node && sa->slam_node != id)
		return -EADDRNOTAVAIL;
	lock_sock(&lsk->sk);
	err = lamport_bind_port(lsk, sa->slam_port);
	release_sock(&lsk->sk);
	return err;
}

/* A destination's checks but whether it is known, as in sendto. */
static int lamport_check_dest(struct lamport_sock *lsk,
			      const struct sockaddr_lamport *sa, int len)
{
	int err;

	err = lamport_check_addr(sa, len);
	if (err)
		return err;
	if (!sa->slam_port || !sa->slam_node)
		return -EINVAL;
	if (!lamport_node_id(lsk->ln))
		return -EADDRNOTAVAIL;
	return 0;
}

static u64 lamport_dest(u32 node, u16 port)
{
	return (u64)node << 16 | port;
}

static int lamport_connect(struct socket *sock, struct sockaddr *uaddr,
			   int len, int flags)
{
	struct sockaddr_lamport *sa = (struct sockaddr_lamport *)uaddr;
	struct lamport_sock *lsk = lamport_sk(sock->sk);
	int err = 0;

	struct lamport_addr to;

	if (len >= (int)sizeof(sa_family_t) && sa->slam_family == AF_UNSPEC) {
		WRITE_ONCE(lsk->dest, 0);
		return 0;
	}
	err = lamport_check_dest(lsk, sa, len);
	if (!err)
		err = lamport_msg_route(lsk->ln, sa->slam_node, &to);
	if (err)
		return err;
	WRITE_ONCE(lsk->dest, lamport_dest(sa->slam_node, sa->slam_port));
	return 0;
}

static int lamport_getname(struct socket *sock, struct sockaddr *uaddr,
			   int peer)
{
	struct sockaddr_lamport *sa = (struct sockaddr_lamport *)uaddr;
	struct lamport_sock *lsk = lamport_sk(sock->sk);
	u64 dest = READ_ONCE(lsk->dest);

	memset(sa, 0, sizeof(*sa));
	sa->slam_family = lamport_family;
	if (peer) {
		sa->slam_node = dest >> 16;
		sa->slam_port = dest & 0xffff;
	} else {
		sa->slam_node = lamport_node_id(lsk->ln);
		sa->slam_port = READ_ONCE(lsk->port);
	}
	if (peer && !sa->slam_node)
		return -ENOTCONN;
	return sizeof(*sa);
}

static int lamport_autobind(struct lamport_sock *lsk)
{
	int err = 0;

	if (READ_ONCE(lsk->port))
		return 0;
	lock_sock(&lsk->sk);
	if (!lsk->port)
		err = lamport_bind_port(lsk, 0);
	release_sock(&lsk->sk);
	return err;
}

static int lamport_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	DECLARE_SOCKADDR(struct sockaddr_lamport *, sa, msg->msg_name);
	struct lamport_sock *lsk = lamport_sk(sock->sk);
	u64 dest;
	u32 node;
	u16 port;
	int err;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (sa) {
		err = lamport_check_dest(lsk, sa, msg->msg_namelen);
		if (err)
			return err;
		node = sa->slam_node;
		port = sa->slam_port;
	} else {
		dest = READ_ONCE(lsk->dest);
		if (!dest)
			return -EDESTADDRREQ;
		node = dest >> 16;
		port = dest & 0xffff;
	}
	if (lsk->sk.sk_shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	if (len > LAMPORT_MSG_MAX)
		return -EMSGSIZE;
	err = lamport_autobind(lsk);
	if (err)
		return err;
	if (lsk->sk.sk_type == SOCK_RDM)
		return lamport_rdm_send(lsk, node, port, msg, len);
	return lamport_dgram_send(lsk, node, port, msg, len);
}

static void lamport_recv_name(struct msghdr *msg, const struct lamport_cb *cb)
{
	DECLARE_SOCKADDR(struct sockaddr_lamport *, sa, msg->msg_name);

	if (!sa)
		return;
	memset(sa, 0, sizeof(*sa));
	sa->slam_family = lamport_family;
	sa->slam_node = cb->node;
	sa->slam_port = cb->port;
	msg->msg_namelen = sizeof(*sa);
}

static int lamport_recvmsg(struct socket *sock, struct msghdr *msg,
			   size_t len, int flags)
{
	struct lamport_sock *lsk = lamport_sk(sock->sk);
	struct sock *sk = &lsk->sk;
	struct lamport_stamp st;
	struct sk_buff *skb;
	size_t copied;
	int err;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if ((READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) &&
	    skb_queue_empty_lockless(&sk->sk_receive_queue))
		return 0;
	skb = skb_recv_datagram(sk, flags, &err);
	if (!skb)
		return (sk->sk_shutdown & RCV_SHUTDOWN) && !err ? 0 : err;

	copied = min_t(size_t, skb->len, len);
	if (copied < skb->len)
		msg->msg_flags |= MSG_TRUNC;
	err = skb_copy_datagram_msg(skb, 0, msg, copied);
	if (err)
		goto out;
	lamport_recv_name(msg, LAMPORT_CB(skb));
	st.stamp = LAMPORT_CB(skb)->stamp;
	if (flags & MSG_PEEK) {
		st.clock = atomic64_read(&lsk->clock);
	} else {
		st.clock = lamport_clock_merge(lsk, st.stamp);
		trace_lamport_msg_recv(sock_net(sk)->ns.inum, sk->sk_type,
				       lsk->port, LAMPORT_CB(skb)->node,
				       LAMPORT_CB(skb)->port, st.stamp,
				       st.clock, skb->len);
	}
	put_cmsg(msg, SOL_LAMPORT, LAMPORT_CMSG_STAMP, sizeof(st), &st);
	err = (flags & MSG_TRUNC) ? skb->len : copied;
out:
	skb_free_datagram(sk, skb);
	if (err >= 0 && !(flags & MSG_PEEK) && sk->sk_type == SOCK_RDM)
		lamport_rdm_read(lsk);
	return err;
}

static int lamport_setsockopt(struct socket *sock, int level, int optname,
			      sockptr_t optval, unsigned int optlen)
{
	struct lamport_sock *lsk = lamport_sk(sock->sk);

	if (level != SOL_LAMPORT)
		return -ENOPROTOOPT;
	switch (optname) {
	case LAMPORT_TICK:
		lamport_clock_tick(lsk);
		return 0;
	case LAMPORT_CLOCK:
		return -EPERM;	/* only the rules move a clock */
	}
	return -ENOPROTOOPT;
}

static int lamport_getsockopt(struct socket *sock, int level, int optname,
			      char __user *optval, int __user *optlen)
{
	struct lamport_sock *lsk = lamport_sk(sock->sk);
	u64 clock;
	int len;

	if (level != SOL_LAMPORT)
		return -ENOPROTOOPT;
	if (optname != LAMPORT_CLOCK)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < (int)sizeof(clock))
		return -EINVAL;
	clock = atomic64_read(&lsk->clock);
	len = sizeof(clock);
	if (put_user(len, optlen) || copy_to_user(optval, &clock, len))
		return -EFAULT;
	return 0;
}

static int lamport_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;

	/* SHUT_RD, SHUT_WR, SHUT_RDWR are 0, 1, 2: one more is the mask. */
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | (how + 1));
	release_sock(sk);
	sk->sk_state_change(sk);
	return 0;
}

/* SIOCINQ: the next message's length, as for UDP; SIOCOUTQ: bytes held. */
static int lamport_ioctl(struct socket *sock, unsigned int cmd,
			 unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct sk_buff *skb;
	int amount;

	switch (cmd) {
	case SIOCINQ:
		spin_lock_bh(&sk->sk_receive_queue.lock);
		skb = skb_peek(&sk->sk_receive_queue);
		amount = skb ? skb->len : 0;
		spin_unlock_bh(&sk->sk_receive_queue.lock);
		return put_user(amount, (int __user *)arg);
	case SIOCOUTQ:
		return put_user(sk_wmem_alloc_get(sk), (int __user *)arg);
	}
	return -ENOIOCTLCMD;
}

/*
 * SO_LINGER with a time: close waits that long for every RDM message to be
 * acknowledged. Otherwise what is not acknowledged is dropped.
 */
static void lamport_linger(struct lamport_sock *lsk)
{
	struct sock *sk = &lsk->sk;
	long timeo = sk->sk_lingertime;

	if (sk->sk_type != SOCK_RDM || !sock_flag(sk, SOCK_LINGER) || !timeo)
		return;
	wait_event_interruptible_timeout(*sk_sleep(sk),
					 lamport_rdm_drained(lsk), timeo);
}

static void lamport_unhash(struct lamport_sock *lsk)
{
	struct lamport_net *ln = lsk->ln;

	spin_lock_bh(&ln->sock_lock);
	if (lsk->port)
		hash_del_rcu(&lsk->port_node);
	list_del(&lsk->node);
	ln->sock_gen++;
	spin_unlock_bh(&ln->sock_lock);
}

static int lamport_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct lamport_sock *lsk;

	if (!sk)
		return 0;
	lsk = lamport_sk(sk);
	lamport_linger(lsk);
	lamport_unhash(lsk);
	if (sk->sk_type == SOCK_RDM)
		lamport_rdm_release(lsk);

	lock_sock(sk);
	sock_orphan(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;
	skb_queue_purge(&sk->sk_receive_queue);
	release_sock(sk);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

/* After a grace period: a receiver may have queued after release. */
static void lamport_destruct(struct sock *sk)
{
	skb_queue_purge(&sk->sk_receive_queue);
}

static const struct proto_ops lamport_ops = {
	.owner = THIS_MODULE,
	.release = lamport_release,
	.bind = lamport_bind,
	.connect = lamport_connect,
	.socketpair = sock_no_socketpair,
	.accept = sock_no_accept,
	.getname = lamport_getname,
	.poll = datagram_poll,
	.ioctl = lamport_ioctl,
	.listen = sock_no_listen,
	.shutdown = lamport_shutdown,
	.setsockopt = lamport_setsockopt,
	.getsockopt = lamport_getsockopt,
	.sendmsg = lamport_sendmsg,
	.recvmsg = lamport_recvmsg,
	.mmap = sock_no_mmap,
};

static int lamport_create(struct net *net, struct socket *sock, int protocol,
			  int kern)
{
	struct lamport_net *ln = lamport_net(net);
	struct lamport_sock *lsk;
	struct sock *sk;

	if (protocol)
		return -EPROTONOSUPPORT;
	if (sock->type != SOCK_DGRAM && sock->type != SOCK_RDM)
		return -ESOCKTNOSUPPORT;

	sk = sk_alloc(net, lamport_family, GFP_KERNEL, &lamport_proto, kern);
	if (!sk)
		return -ENOMEM;
	sock->ops = &lamport_ops;
	sock_init_data(sock, sk);
	sock_set_flag(sk, SOCK_RCU_FREE);
	sk->sk_destruct = lamport_destruct;

	lsk = lamport_sk(sk);
	lsk->ln = ln;
	INIT_HLIST_NODE(&lsk->port_node);
	atomic64_set(&lsk->clock, 0);
	if (sock->type == SOCK_RDM)
		lamport_rdm_init(lsk);

	spin_lock_bh(&ln->sock_lock);
	list_add_tail(&lsk->node, &ln->socks);
	ln->sock_gen++;
	spin_unlock_bh(&ln->sock_lock);
	return 0;
}

static struct net_proto_family lamport_family_ops = {
	.create = lamport_create,
	.owner = THIS_MODULE,
};

void lamport_af_net_init(struct lamport_net *ln)
{
	spin_lock_init(&ln->sock_lock);
	hash_init(ln->ports);
	INIT_LIST_HEAD(&ln->socks);
}

static int lamport_fill_stats(struct sk_buff *skb, struct lamport_sock *lsk)
{
	struct sock *sk = &lsk->sk;
	u64 v[LAMPORT_SOCK_STAT_MAX + 1];
	struct nlattr *nest;
	int i;

	for (i = 0; i <= LAMPORT_SOCK_STAT_MAX; i++)
		v[i] = atomic64_read(&lsk->stats[i]);
	v[LAMPORT_SOCK_STAT_RX_QUEUED] = sk->sk_type == SOCK_RDM ?
		atomic_read(&lsk->rx_cost) : sk_rmem_alloc_get(sk);
	v[LAMPORT_SOCK_STAT_TX_QUEUED] = sk_wmem_alloc_get(sk);
	v[LAMPORT_SOCK_STAT_RCVBUF] = READ_ONCE(sk->sk_rcvbuf);
	v[LAMPORT_SOCK_STAT_SNDBUF] = READ_ONCE(sk->sk_sndbuf);

	nest = nla_nest_start(skb, LAMPORT_A_SOCK_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = LAMPORT_SOCK_STAT_TX; i <= LAMPORT_SOCK_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, i, v[i], LAMPORT_SOCK_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int lamport_fill_sock(struct sk_buff *skb, struct lamport_sock *lsk)
{
	struct sock *sk = &lsk->sk;

	if (nla_put_u8(skb, LAMPORT_A_SOCK_TYPE, sk->sk_type) ||
	    nla_put_u16(skb, LAMPORT_A_SOCK_PORT, READ_ONCE(lsk->port)) ||
	    nla_put_u64_64bit(skb, LAMPORT_A_SOCK_INODE, sock_i_ino(sk),
			      LAMPORT_A_PAD) ||
	    nla_put_u64_64bit(skb, LAMPORT_A_SOCK_CLOCK,
			      atomic64_read(&lsk->clock), LAMPORT_A_PAD))
		return -EMSGSIZE;
	if (lamport_fill_stats(skb, lsk))
		return -EMSGSIZE;
	if (sk->sk_type == SOCK_RDM)
		return lamport_rdm_fill_flows(skb, lsk);
	return 0;
}

/* LAMPORT_CMD_SOCK_GET: every socket of the caller's node, one per message. */
int lamport_sock_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct lamport_net *ln = lamport_net(sock_net(skb->sk));
	long skip = cb->args[0], i = 0;
	struct lamport_sock *lsk;
	void *hdr;

	spin_lock_bh(&ln->sock_lock);
	cb->seq = ln->sock_gen;	/* a change between parts flags the dump */
	list_for_each_entry(lsk, &ln->socks, node) {
		if (i++ < skip)
			continue;
		hdr = lamport_nl_dump_hdr(skb, cb, LAMPORT_CMD_SOCK_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (lamport_fill_sock(skb, lsk)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = i;
	}
	spin_unlock_bh(&ln->sock_lock);
	return skb->len;
}

int __init lamport_af_init(void)
{
	int err;

	if (lamport_family <= AF_UNSPEC || lamport_family >= NPROTO) {
		pr_err("lamport: family=%d is out of range 1..%d\n",
		       lamport_family, NPROTO - 1);
		return -EINVAL;
	}
	err = proto_register(&lamport_proto, 1);
	if (err)
		return err;
	lamport_family_ops.family = lamport_family;
	err = sock_register(&lamport_family_ops);
	if (err) {
		pr_err("lamport: address family %d is taken (load with family=N to pick another)\n",
		       lamport_family);
		proto_unregister(&lamport_proto);
	}
	return err;
}

void lamport_af_exit(void)
{
	sock_unregister(lamport_family);
	proto_unregister(&lamport_proto);
}
