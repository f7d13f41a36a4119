/*
 * uvfs POSIX behaviour suite - runner and shared helpers.
 *
 * Usage: uvfs-posix-suite [-v] [-l] [-x OTHER_FS_DIR] [-t FILTER]
 *                         [-F all|punch|none|MODE,...] DIR
 */
#include "suite.h"

#include <dirent.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>

#ifndef TEST_TIMEOUT
#define TEST_TIMEOUT 30 /* seconds per test case */
#endif

int g_verbose;
const char *g_other_dir;
unsigned int g_falloc = FALLOC_ALL;
char g_workdir[4096];
char g_testdir[4096];

static int g_msgfd = -1;          /* write end of the failure pipe (child) */
static const char *g_progname = "uvfs-posix-suite";

/* ------------------------------------------------------------------ */
/* failure reporting                                                   */

void tfail(const char *file, int line, const char *fmt, ...)
{
    char buf[1500];
    const char *base = strrchr(file, '/');
    int n;
    va_list ap;

    base = base ? base + 1 : file;
    n = snprintf(buf, sizeof(buf), "%s:%d: ", base, line);
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    va_end(ap);
    if (g_msgfd >= 0) {
        /* One write, smaller than PIPE_BUF, so it arrives whole. */
        size_t len = strnlen(buf, 1000);
        if (write(g_msgfd, buf, len) < 0) {
            /* nothing sensible left to do */
        }
    } else {
        fprintf(stderr, "%s\n", buf);
    }
    _exit(1);
}

void eq_fail(const char *file, int line, const char *aexpr, const char *bexpr,
             long long a, long long b)
{
    char *end;
    errno = 0;
    (void)strtoll(bexpr, &end, 0);
    if (*end == '\0' && errno == 0) /* expected value is a plain number */
        tfail(file, line, "%s: expected %lld, got %lld", aexpr, b, a);
    tfail(file, line, "%s: expected %lld (%s), got %lld", aexpr, b, bexpr, a);
}

void tnote(const char *fmt, ...)
{
    va_list ap;

    if (!g_verbose)
        return;
    fputs("#    ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */

size_t mem_diff(const void *a, const void *b, size_t len)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < len; i++)
        if (x[i] != y[i])
            return i;
    return (size_t)-1;
}

void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            FAIL("write(fd %d, %zu bytes): %s", fd, len, strerror(errno));
        if (n == 0)
            FAIL("write(fd %d, %zu bytes) returned 0", fd, len);
        p += n;
        len -= (size_t)n;
    }
}

void read_exact(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t want = len;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            FAIL("read(fd %d, %zu bytes): %s", fd, len, strerror(errno));
        if (n == 0)
            FAIL("read(fd %d): unexpected EOF after %zu of %zu bytes", fd,
                 want - len, want);
        p += n;
        len -= (size_t)n;
    }
}

void put_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        FAIL("open(\"%s\", O_WRONLY|O_CREAT|O_TRUNC): %s", path,
             strerror(errno));
    write_all(fd, data, len);
    if (close(fd) != 0)
        FAIL("close(\"%s\"): %s", path, strerror(errno));
}

void put_str(const char *path, const char *s)
{
    put_file(path, s, strlen(s), 0644);
}

size_t get_file(const char *path, void *buf, size_t max)
{
    int fd = open(path, O_RDONLY);
    size_t got = 0;
    if (fd < 0)
        FAIL("open(\"%s\", O_RDONLY): %s", path, strerror(errno));
    while (got < max) {
        ssize_t n = read(fd, (char *)buf + got, max - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            FAIL("read(\"%s\"): %s", path, strerror(errno));
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return got;
}

void expect_content(const char *path, const char *s)
{
    char buf[8192];
    size_t want = strlen(s);
    size_t got = get_file(path, buf, sizeof(buf));
    if (got != want || memcmp(buf, s, want) != 0)
        FAIL("content of \"%s\": expected \"%.60s\" (%zu bytes), got "
             "\"%.*s\" (%zu bytes)",
             path, s, want, (int)(got > 60 ? 60 : got), buf, got);
}

struct stat xstat(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        FAIL("stat(\"%.200s\"): %s", path, strerror(errno));
    return st;
}

struct stat xlstat(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        FAIL("lstat(\"%.200s\"): %s", path, strerror(errno));
    return st;
}

struct stat xfstat(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        FAIL("fstat(%d): %s", fd, strerror(errno));
    return st;
}

void msleep(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void tick(void)
{
    /* Kernel file timestamps come from a coarse clock (one jiffy, at most
     * 10 ms); 30 ms guarantees a visible step. */
    msleep(30);
}

int ts_cmp(struct timespec a, struct timespec b)
{
    if (a.tv_sec != b.tv_sec)
        return a.tv_sec < b.tv_sec ? -1 : 1;
    if (a.tv_nsec != b.tv_nsec)
        return a.tv_nsec < b.tv_nsec ? -1 : 1;
    return 0;
}

int ts_eq(struct timespec a, struct timespec b)
{
    return ts_cmp(a, b) == 0;
}

const struct timespec OLD_ATIME = { 1000000000, 0 };  /* 2001-09-09 */
const struct timespec OLD_MTIME = { 1000000100, 0 };

void set_old_times(const char *path)
{
    struct timespec ts[2] = { OLD_ATIME, OLD_MTIME };
    if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
        FAIL("utimensat(\"%s\", old times): %s", path, strerror(errno));
    struct stat st = xlstat(path);
    if (!ts_eq(st.st_atim, OLD_ATIME) || !ts_eq(st.st_mtim, OLD_MTIME))
        FAIL("utimensat(\"%s\") did not set atime/mtime: got %lld/%lld", path,
             (long long)st.st_atim.tv_sec, (long long)st.st_mtim.tv_sec);
}

void fill_random(void *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
}

uint64_t fnv1a(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void as_nobody(void (*fn)(void))
{
    int status;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid < 0)
        FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        alarm(TEST_TIMEOUT);
        if (setgroups(0, NULL) != 0)
            FAIL("setgroups(0, NULL): %s (the suite must run as root)",
                 strerror(errno));
        if (setresgid(NOBODY_GID, NOBODY_GID, NOBODY_GID) != 0)
            FAIL("setresgid(65534): %s", strerror(errno));
        if (setresuid(NOBODY_UID, NOBODY_UID, NOBODY_UID) != 0)
            FAIL("setresuid(65534): %s", strerror(errno));
        if (geteuid() != NOBODY_UID || getegid() != NOBODY_GID)
            FAIL("privilege drop did not take effect");
        fn();
        _exit(0);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            FAIL("waitpid: %s", strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (WIFEXITED(status))
        _exit(1); /* the child already reported its failure */
    FAIL("unprivileged child killed by signal %d (%s)", WTERMSIG(status),
         strsignal(WTERMSIG(status)));
}

int rm_rf_at(int dirfd, const char *name)
{
    struct stat st;
    int err = 0;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (fd < 0) {
            /* maybe a permission test left it unsearchable (non-root) */
            fchmodat(dirfd, name, 0700, 0);
            fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            if (fd < 0)
                return -1;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
            close(fd);
            return -1;
        }
        /* Collect names first, then delete: keeps this independent of the
         * filesystem's readdir-while-unlinking behaviour. */
        for (;;) {
            size_t n = 0, cap = 64;
            char **names = malloc(cap * sizeof(*names));
            struct dirent *de;
            if (!names) {
                closedir(d);
                return -1;
            }
            rewinddir(d);
            while ((de = readdir(d)) != NULL) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                if (n == cap) {
                    cap *= 2;
                    char **nn = realloc(names, cap * sizeof(*names));
                    if (!nn)
                        break;
                    names = nn;
                }
                names[n++] = strdup(de->d_name);
            }
            for (size_t i = 0; i < n; i++) {
                if (names[i] && rm_rf_at(fd, names[i]) != 0 && !err)
                    err = errno ? errno : EIO;
                free(names[i]);
            }
            free(names);
            if (n == 0 || err)
                break;
        }
        closedir(d);
        if (err) {
            errno = err;
            return -1;
        }
        return unlinkat(dirfd, name, AT_REMOVEDIR);
    }
    return unlinkat(dirfd, name, 0);
}

char *repeat_char(char c, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        FAIL("malloc(%zu) failed", n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

long count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    long n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------ */
/* runner                                                              */

static const struct testcase *const all_tables[] = {
    io_cases,
    dir_cases,
    meta_cases,
};

static __attribute__((noreturn)) void usage_error(const char *msg)
{
    fprintf(stderr,
            "%s: %s (usage: %s [-v] [-l] [-x OTHER_FS_DIR] [-t FILTER] "
            "[-F all|punch|none|MODE,...] DIR)\n",
            g_progname, msg, g_progname);
    exit(2);
}

/*
 * -F: declares which fallocate(2) modes the filesystem has; 0 or -1.
 * "all", "punch" (ext2/ext3 under the ext4 driver), "none" (the kernel's
 * ext2), or a comma separated list of prealloc, punch and zero (tmpfs has
 * no FALLOC_FL_ZERO_RANGE: "prealloc,punch").
 */
static int parse_falloc(const char *arg)
{
    static const struct {
        const char *name;
        unsigned int bits;
    } words[] = {
        { "all", FALLOC_ALL },
        { "none", FALLOC_NONE },
        { "prealloc", FALLOC_PREALLOC },
        { "punch", FALLOC_PUNCH },
        { "zero", FALLOC_ZERO },
    };
    char buf[256];
    char *save = NULL, *tok;
    unsigned int bits = 0;
    size_t i;

    if (!*arg || strlen(arg) >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%s", arg);
    for (tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (!strcmp(tok, words[i].name))
                break;
        if (i == sizeof(words) / sizeof(words[0]))
            return -1;
        bits |= words[i].bits;
    }
    g_falloc = bits;
    return 0;
}

/* FILTER is a comma separated list of substrings; empty matches all. */
static int matches(const char *name, const char *filter)
{
    char buf[1024];
    char *save = NULL, *tok;

    if (!filter || !*filter)
        return 1;
    snprintf(buf, sizeof(buf), "%s", filter);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (strstr(name, tok))
            return 1;
    return 0;
}

/* Runs one case; returns 1 on pass. */
static int run_case(const struct testcase *tc)
{
    char msg[1100];
    int pfd[2], status, rc;
    ssize_t n;
    size_t got = 0;
    pid_t pid;
    struct timespec t0, t1;

    snprintf(g_testdir, 4096, "%.3000s/%.200s", g_workdir, tc->name);
    if (mkdir(g_testdir, 0755) != 0 || chmod(g_testdir, 0755) != 0) {
        printf("FAIL %s: cannot create test directory %s: %s\n", tc->name,
               g_testdir, strerror(errno));
        return 0;
    }
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        printf("FAIL %s: pipe: %s\n", tc->name, strerror(errno));
        return 0;
    }
    fflush(stdout);
    fflush(stderr);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    if (pid < 0) {
        printf("FAIL %s: fork: %s\n", tc->name, strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return 0;
    }
    if (pid == 0) {
        close(pfd[0]);
        g_msgfd = pfd[1];
        setpgid(0, 0);
        signal(SIGALRM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        umask(022);
        if (chdir(g_testdir) != 0)
            FAIL("chdir(%s): %s", g_testdir, strerror(errno));
        alarm(TEST_TIMEOUT);
        tc->fn();
        _exit(0);
    }
    close(pfd[1]);
    setpgid(pid, pid); /* also done by the child; whichever runs first */
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = -1;
            break;
        }
    }
    /* Take down anything the case left behind in its process group. */
    kill(-pid, SIGKILL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    while (got < sizeof(msg) - 1 &&
           (n = read(pfd[0], msg + got, sizeof(msg) - 1 - got)) > 0)
        got += (size_t)n;
    msg[got] = '\0';
    close(pfd[0]);

    rc = 0;
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
        got == 0) {
        rc = 1;
    } else if (got > 0) {
        printf("FAIL %s: %s\n", tc->name, msg);
    } else if (status != -1 && WIFSIGNALED(status) &&
               WTERMSIG(status) == SIGALRM) {
        printf("FAIL %s: timed out after %d s\n", tc->name, TEST_TIMEOUT);
    } else if (status != -1 && WIFSIGNALED(status)) {
        printf("FAIL %s: killed by signal %d (%s)\n", tc->name,
               WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        printf("FAIL %s: test process ended abnormally (status 0x%x)\n",
               tc->name, status);
    }

    if (rm_rf_at(AT_FDCWD, g_testdir) != 0) {
        int e = errno;
        if (rc)
            printf("FAIL %s: cleanup: removing %s: %s\n", tc->name, g_testdir,
                   strerror(e));
        else
            fprintf(stderr, "%s: warning: cleanup of %s: %s\n", g_progname,
                    g_testdir, strerror(e));
        rc = 0;
    }
    if (rc) {
        if (g_verbose)
            printf("ok   %s (%.0f ms)\n", tc->name,
                   (t1.tv_sec - t0.tv_sec) * 1e3 +
                       (t1.tv_nsec - t0.tv_nsec) / 1e6);
        else
            printf("ok   %s\n", tc->name);
    }
    fflush(stdout);
    return rc;
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    int list_only = 0, opt, passed = 0, failed = 0, selected = 0;
    char dirbuf[4096];
    struct stat st;

    if (argc > 0 && argv[0]) {
        const char *b = strrchr(argv[0], '/');
        g_progname = b ? b + 1 : argv[0];
    }
    opterr = 0;
    while ((opt = getopt(argc, argv, ":vlx:t:F:h")) != -1) {
        switch (opt) {
        case 'v':
            g_verbose = 1;
            break;
        case 'l':
            list_only = 1;
            break;
        case 'x':
            g_other_dir = optarg;
            break;
        case 't':
            filter = optarg;
            break;
        case 'F':
            if (parse_falloc(optarg) < 0)
                usage_error("-F takes all, none, or a comma separated "
                            "list of prealloc, punch and zero");
            break;
        case 'h':
            printf("usage: %s [-v] [-l] [-x OTHER_FS_DIR] [-t FILTER] "
                   "[-F all|punch|none|MODE,...] DIR\n"
                   "  -v  verbose   -l  list test names and exit\n"
                   "  -x  directory on another filesystem (for EXDEV)\n"
                   "  -t  run only tests whose name contains one of the\n"
                   "      comma separated substrings in FILTER\n"
                   "  -F  fallocate(2) support of the filesystem: all\n"
                   "      (default), none, or a list of prealloc (mode 0,\n"
                   "      KEEP_SIZE), punch (PUNCH_HOLE), zero (ZERO_RANGE);\n"
                   "      the other modes must fail with EOPNOTSUPP\n",
                   g_progname);
            return 0;
        case ':': {
            char m[64];
            snprintf(m, sizeof(m), "option -%c requires an argument", optopt);
            usage_error(m);
        }
        default: {
            char m[64];
            snprintf(m, sizeof(m), "invalid option -%c", optopt);
            usage_error(m);
        }
        }
    }

    if (list_only) {
        for (size_t t = 0; t < sizeof(all_tables) / sizeof(all_tables[0]); t++)
            for (const struct testcase *tc = all_tables[t]; tc->name; tc++)
                if (matches(tc->name, filter))
                    printf("%s\n", tc->name);
        return 0;
    }
    for (size_t t = 0; t < sizeof(all_tables) / sizeof(all_tables[0]); t++)
        for (const struct testcase *tc = all_tables[t]; tc->name; tc++)
            if (matches(tc->name, filter))
                selected++;
    if (optind != argc - 1)
        usage_error(optind >= argc ? "missing DIR argument"
                                   : "exactly one DIR argument expected");

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    if (stat(argv[optind], &st) != 0) {
        fprintf(stderr, "%s: %s: %s\n", g_progname, argv[optind],
                strerror(errno));
        return 2;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: %s: not a directory\n", g_progname, argv[optind]);
        return 2;
    }
    if (!realpath(argv[optind], dirbuf)) {
        fprintf(stderr, "%s: %s: %s\n", g_progname, argv[optind],
                strerror(errno));
        return 2;
    }
    if (g_other_dir) {
        if (stat(g_other_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: -x %s: %s\n", g_progname, g_other_dir,
                    errno ? strerror(errno) : "not a directory");
            return 2;
        }
    }
    if (selected == 0) {
        fprintf(stderr, "%s: no test name matches filter \"%s\"\n",
                g_progname, filter ? filter : "");
        return 2;
    }
    if (strlen(dirbuf) > 2000) {
        fprintf(stderr, "%s: %s: path too long\n", g_progname, dirbuf);
        return 2;
    }
    snprintf(g_workdir, 4096, "%.2000s/uvfs-posix.%ld.%ld", dirbuf, (long)getpid(),
             (long)time(NULL));
    if (mkdir(g_workdir, 0755) != 0) {
        fprintf(stderr, "%s: cannot create work directory %s: %s\n",
                g_progname, g_workdir, strerror(errno));
        return 2;
    }
    /* Deterministic ownership and mode (drops any inherited setgid bit) so
     * that the unprivileged checks can reach the per-test directories. */
    if (chown(g_workdir, geteuid(), getegid()) != 0 ||
        chmod(g_workdir, 0755) != 0) {
        fprintf(stderr, "%s: cannot set up work directory %s: %s\n",
                g_progname, g_workdir, strerror(errno));
        rmdir(g_workdir);
        return 2;
    }
    if (g_verbose)
        printf("# work directory: %s\n", g_workdir);
    if (g_falloc != FALLOC_ALL)
        printf("# fallocate: declared%s%s%s%s; other modes must fail with "
               "EOPNOTSUPP\n",
               g_falloc & FALLOC_PREALLOC ? " prealloc" : "",
               g_falloc & FALLOC_PUNCH ? " punch" : "",
               g_falloc & FALLOC_ZERO ? " zero" : "",
               g_falloc == FALLOC_NONE ? " none" : "");

    for (size_t t = 0; t < sizeof(all_tables) / sizeof(all_tables[0]); t++) {
        for (const struct testcase *tc = all_tables[t]; tc->name; tc++) {
            if (!matches(tc->name, filter))
                continue;
            if (run_case(tc))
                passed++;
            else
                failed++;
        }
    }

    if (rm_rf_at(AT_FDCWD, g_workdir) != 0) {
        printf("FAIL cleanup: removing work directory %s: %s\n", g_workdir,
               strerror(errno));
        failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
