/* Running other programs from tests (libcoap's own tools): spawn quietly, wait for exit;
 * forking a server process that says when it is ready. */
#ifndef PQCOAP_TEST_PROC_H
#define PQCOAP_TEST_PROC_H

#include <sys/types.h>

/** Starts argv (argv[0] a path) with stdout and stderr to /dev/null; returns its pid or -1. */
pid_t proc_spawn(char *const argv[]);

/** Runs argv to completion as proc_spawn does; returns its exit status, or -1. */
int proc_run(char *const argv[]);

/** Forks a process that says when it is ready. In the child returns 0 with *ready the write
 *  end of a pipe, to which the child writes one byte once ready. In the parent waits for
 *  that byte and returns the child's pid; -1 when the fork fails or the child ends before
 *  it is ready (it is reaped then). */
pid_t proc_fork_ready(int *ready);

#endif
