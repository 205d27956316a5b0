/* Spawning and waiting for helper programs in tests (see proc.h). */
#include "proc.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t proc_spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

int proc_run(char *const argv[])
{
    int status;
    pid_t pid = proc_spawn(argv);
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

pid_t proc_fork_ready(int *ready)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        *ready = fd[1];
        return 0;
    }
    close(fd[1]);
    char c;
    int ok = pid > 0 && read(fd[0], &c, 1) == 1; /* EOF: the child ended first */
    close(fd[0]);
    if (!ok && pid > 0)
        waitpid(pid, NULL, 0);
    return ok ? pid : -1;
}
