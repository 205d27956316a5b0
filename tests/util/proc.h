/* Running other programs from tests (libcoap's own tools): spawn quietly, wait for exit. */
#ifndef PQCOAP_TEST_PROC_H
#define PQCOAP_TEST_PROC_H

#include <sys/types.h>

/** Starts argv (argv[0] a path) with stdout and stderr to /dev/null; returns its pid or -1. */
pid_t proc_spawn(char *const argv[]);

/** Runs argv to completion as proc_spawn does; returns its exit status, or -1. */
int proc_run(char *const argv[]);

#endif
