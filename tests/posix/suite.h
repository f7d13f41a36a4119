/*
 * uvfs POSIX behaviour suite - shared test framework declarations.
 *
 * Every test case is a `void fn(void)` that runs in its own forked child,
 * with the current directory set to a fresh, empty per-test directory.
 * A failed check reports "file:line: message" to the runner and exits the
 * child, so a test case stops at its first failed check.
 */
#ifndef UVFS_POSIX_SUITE_H
#define UVFS_POSIX_SUITE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

struct testcase {
    const char *name;
    void (*fn)(void);
};

#define TEST(n) static void test_##n(void)
#define TC(n) { #n, test_##n }
#define TC_END { NULL, NULL }

/* Case tables, one per source file. */
extern const struct testcase io_cases[];
extern const struct testcase dir_cases[];
extern const struct testcase meta_cases[];

/* Global state set up by the runner. */
extern int g_verbose;
extern const char *g_other_dir;   /* -x argument, or NULL */
extern char g_workdir[];          /* absolute path of the suite work dir */
extern char g_testdir[];          /* absolute path of the current test dir */

/* The fallocate(2) modes the filesystem under test supports (-F), a set
 * of FALLOC_* bits. The default is all of them; anything less must be
 * declared on the command line, so that a missing mode never passes
 * unnoticed: a declared-missing mode must fail with EOPNOTSUPP. */
enum {
    FALLOC_PREALLOC = 1, /* mode 0 and FALLOC_FL_KEEP_SIZE */
    FALLOC_PUNCH = 2,    /* FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE */
    FALLOC_ZERO = 4,     /* FALLOC_FL_ZERO_RANGE, with and without KEEP_SIZE */
    FALLOC_ALL = FALLOC_PREALLOC | FALLOC_PUNCH | FALLOC_ZERO,
    FALLOC_NONE = 0,
};
extern unsigned int g_falloc;

/* The unprivileged identity used by permission tests. */
#define NOBODY_UID ((uid_t)65534)
#define NOBODY_GID ((gid_t)65534)

void tfail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
void tnote(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define FAIL(...) tfail(__FILE__, __LINE__, __VA_ARGS__)
void eq_fail(const char *file, int line, const char *aexpr, const char *bexpr,
             long long a, long long b) __attribute__((noreturn));

/* Generic condition. */
#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            FAIL(__VA_ARGS__);                                                 \
    } while (0)

/* A call that returns -1 + errno on failure must succeed; yields the result. */
#define OK(expr)                                                               \
    ({                                                                         \
        errno = 0;                                                             \
        long long ok_r_ = (long long)(expr);                                   \
        if (ok_r_ == -1) {                                                     \
            int ok_e_ = errno;                                                 \
            FAIL("%s: expected success, got -1 errno %d (%s)", #expr, ok_e_,   \
                 strerror(ok_e_));                                             \
        }                                                                      \
        ok_r_;                                                                 \
    })

/* A call must fail with -1 and errno == e1 (or e2). */
#define ERR2(expr, e1, e2)                                                     \
    do {                                                                       \
        errno = 0;                                                             \
        long long er_r_ = (long long)(expr);                                   \
        int er_e_ = errno;                                                     \
        if (er_r_ != -1 || (er_e_ != (e1) && er_e_ != (e2))) {                 \
            if (er_r_ == -1)                                                   \
                FAIL("%s: expected -1 errno %s, got errno %d (%s)", #expr,     \
                     strerrorname_np(e1), er_e_, strerror(er_e_));             \
            else                                                               \
                FAIL("%s: expected -1 errno %s, got success (%lld)", #expr,    \
                     strerrorname_np(e1), er_r_);                              \
        }                                                                      \
    } while (0)
#define ERR(expr, e) ERR2(expr, e, e)

/* Integer equality: actual value `a` must equal expected `b`. */
#define EQ(a, b)                                                               \
    do {                                                                       \
        long long eq_a_ = (long long)(a), eq_b_ = (long long)(b);              \
        if (eq_a_ != eq_b_)                                                    \
            eq_fail(__FILE__, __LINE__, #a, #b, eq_a_, eq_b_);                 \
    } while (0)

/* Same, printing in octal (modes). */
#define EQ_MODE(a, b)                                                          \
    do {                                                                       \
        unsigned long eq_a_ = (unsigned long)(a), eq_b_ = (unsigned long)(b);  \
        if (eq_a_ != eq_b_)                                                    \
            FAIL("%s: expected 0%lo, got 0%lo", #a, eq_b_, eq_a_);             \
    } while (0)

/* Byte buffer equality. */
#define MEMEQ(got, want, len)                                                  \
    do {                                                                       \
        size_t me_i_ = mem_diff((got), (want), (len));                         \
        if (me_i_ != (size_t)-1)                                               \
            FAIL("%s: content differs from expected at byte %zu "              \
                 "(got 0x%02x, want 0x%02x)",                                  \
                 #got, me_i_, ((const unsigned char *)(got))[me_i_],           \
                 ((const unsigned char *)(want))[me_i_]);                      \
    } while (0)

/* ---- helpers (posix_suite.c) ---- */
size_t mem_diff(const void *a, const void *b, size_t len);
void write_all(int fd, const void *buf, size_t len);
void read_exact(int fd, void *buf, size_t len);
void put_file(const char *path, const void *data, size_t len, mode_t mode);
void put_str(const char *path, const char *s);
/* Reads the whole file (up to max bytes) into buf; returns size read. */
size_t get_file(const char *path, void *buf, size_t max);
void expect_content(const char *path, const char *s);
struct stat xstat(const char *path);
struct stat xlstat(const char *path);
struct stat xfstat(int fd);
void msleep(int ms);
/* Sleep long enough that any kernel timestamp clock visibly advances. */
void tick(void);
int ts_cmp(struct timespec a, struct timespec b);
/* Sets atime/mtime of path (no-follow) to fixed values far in the past. */
void set_old_times(const char *path);
extern const struct timespec OLD_ATIME, OLD_MTIME;
int ts_eq(struct timespec a, struct timespec b);
/* Deterministic pseudo random bytes. */
void fill_random(void *buf, size_t len, uint64_t seed);
uint64_t fnv1a(const void *buf, size_t len);
/* Runs fn in a forked child with uid/gid 65534 and no supplementary groups.
 * A failed check in the child fails the current test. */
void as_nobody(void (*fn)(void));
/* Recursively removes dirfd/name (not following symlinks). 0 or -1/errno. */
int rm_rf_at(int dirfd, const char *name);
/* Returns a malloc'ed string of n copies of c. */
char *repeat_char(char c, size_t n);
/* Counts directory entries excluding . and ..; -1 on error. */
long count_entries(const char *dir);

#endif
