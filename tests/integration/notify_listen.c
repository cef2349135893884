/*
 * A stand-in for systemd's notification socket, for tests/integration: binds an
 * AF_UNIX datagram socket at PATH and appends every message it receives to OUT
 * (one line per message, newlines inside a message shown as ';'), until a
 * message holds STOPPING=1 or SECONDS have passed.
 *   usage: pa_notify_listen PATH OUT SECONDS
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_un sa;
    int fd;
    time_t tEnd;
    FILE *pOut;

    if (argc != 4 || strlen(argv[1]) >= sizeof sa.sun_path) {
        fprintf(stderr, "usage: pa_notify_listen PATH OUT SECONDS\n");
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("pa_notify_listen: bind");
        return 1;
    }
    pOut = fopen(argv[2], "a");
    if (pOut == NULL) {
        perror("pa_notify_listen: out");
        return 1;
    }
    tEnd = time(NULL) + atoi(argv[3]);
    while (time(NULL) < tEnd) {
        struct pollfd p = {fd, POLLIN, 0};
        char aMsg[4096];
        ssize_t n;
        if (poll(&p, 1, 200) <= 0)
            continue;
        n = recv(fd, aMsg, sizeof aMsg - 1, 0);
        if (n <= 0)
            continue;
        aMsg[n] = '\0';
        for (ssize_t i = 0; i < n; i++)
            if (aMsg[i] == '\n')
                aMsg[i] = ';';
        fprintf(pOut, "%s\n", aMsg);
        fflush(pOut);
        if (strstr(aMsg, "STOPPING=1") != NULL)
            break;
    }
    fclose(pOut);
    close(fd);
    unlink(argv[1]);
    return 0;
}
