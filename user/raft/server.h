/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lamport raft serve: one Raft node of the key-value store, in the
 * foreground until SIGTERM or SIGINT.  argv[0] is "serve", options follow.
 * Returns the process exit status.
 */
#ifndef LAMPORT_RAFT_SERVER_H
#define LAMPORT_RAFT_SERVER_H

int raft_serve(int argc, char **argv);

#endif /* LAMPORT_RAFT_SERVER_H */
