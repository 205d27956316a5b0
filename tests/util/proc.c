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
