// SPDX-License-Identifier: MIT
/*
 * The FUSE transport's worker threads.
 *
 * One thread at a time, the reader, reads /dev/fuse.  It serves what it
 * read itself and then reads again, so a stream of quick requests (lookup,
 * create, getattr: a few microseconds in the backend) stays on one warm
 * thread, with one wake-up per request.  libfuse's own multi-threaded loop
 * keeps every idle thread blocked in read(), and the kernel wakes the one
 * that has waited longest, so consecutive requests bounce between threads;
 * here that cost about a quarter of a create's round trip.
 *
 * A request about to wait for I/O calls uvfs_req_may_block() (the library
 * does it for READ, WRITE, FSYNC, ...), which gives up the reader role: an
 * idle thread, or a new one up to max_threads, reads the next request
 * while this one waits.  After its request, a thread takes the reader role
 * back if it is free, else it goes idle.
 *
 * Exit: when the session ends (unmount: read fails), the reader stops the
 * loop; a signal (fuse_set_signal_handlers() on the main thread, the only
 * one that takes them) interrupts the main thread's wait.  The main thread
 * then cancels the workers.  They run with cancellation disabled except
 * inside fuse_session_receive_buf(), as libfuse's own loop does, so a
 * request is never abandoned half-served.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "fuse_i.h"

struct fuse_worker {
	struct fuse_loop *loop;
	pthread_t thread;
	struct fuse_buf buf;
	bool reader;			/* holds the reader role */
	struct fuse_worker *next;
};

struct fuse_loop {
	struct fuse_session *fs;
	pthread_mutex_t lock;
	pthread_cond_t idle_cv;		/* idle workers wait here */
	sem_t finish;			/* the main thread waits here */
	bool reading;			/* some worker holds the reader role */
	bool stop;
	int err;			/* why the loop stopped */
	uint64_t spin_ns;		/* poll this long before sleeping */
	unsigned int nworkers, nidle, max_workers;
	struct fuse_worker *workers;
};

/* the worker serving a request on this thread, if any */
static __thread struct fuse_worker *current_worker;

static void *worker_main(void *arg);

/* Start a worker; call with loop->lock held.  Signals stay with main. */
static int worker_start(struct fuse_loop *loop)
{
	struct fuse_worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int err;

	UVFS_ASSERT_HELD(&loop->lock);
	if (!w)
		return -ENOMEM;
	w->loop = loop;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(w);
		return -err;
	}
	w->next = loop->workers;
	loop->workers = w;
	loop->nworkers++;
	return 0;
}

/* The loop ends; call with loop->lock held. */
static void loop_stop(struct fuse_loop *loop, int err)
{
	UVFS_ASSERT_HELD(&loop->lock);
	if (!loop->stop)
		loop->err = err;
	loop->stop = true;
	pthread_cond_broadcast(&loop->idle_cv);
	sem_post(&loop->finish);
}

/* Give up the reader role; call with loop->lock held. */
static void give_up_reading(struct fuse_loop *loop, struct fuse_worker *w)
{
	UVFS_ASSERT_HELD(&loop->lock);
	w->reader = false;
	loop->reading = false;
	if (loop->nidle)
		pthread_cond_signal(&loop->idle_cv);
	else if (loop->nworkers < loop->max_workers)
		worker_start(loop);	/* on failure: the next free thread */
}

void uvfs_fuse_loop_may_block(void)
{
	struct fuse_worker *w = current_worker;

	if (!w || !w->reader)
		return;
	pthread_mutex_lock(&w->loop->lock);
	give_up_reading(w->loop, w);
	pthread_mutex_unlock(&w->loop->lock);
}

/*
 * The next request.  With spin_ns, the reader first keeps trying for that
 * long (the fd is non-blocking): the next request of a process that waits
 * for each reply comes within microseconds, and catching it awake saves
 * the daemon's sleep and wake-up, which cost more than the request itself
 * on a virtual machine.  Then it sleeps in poll().  Cancellable.
 */
static int receive(struct fuse_loop *loop, struct fuse_buf *buf)
{
	uint64_t until = loop->spin_ns ? uvfs_now_ns() + loop->spin_ns : 0;
	struct pollfd pfd = { .fd = fuse_session_fd(loop->fs), .events = POLLIN };
	int res;

	for (;;) {
		res = fuse_session_receive_buf(loop->fs, buf);
		if (res != -EAGAIN || !loop->spin_ns)
			return res;
		if (uvfs_now_ns() < until) {
			/* the process we wait for may be queued on this CPU */
			sched_yield();
			continue;
		}
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -errno;
	}
}

static void *worker_main(void *arg)
{
	struct fuse_worker *w = arg;
	struct fuse_loop *loop = w->loop;
	int res;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&loop->lock);
	while (!loop->stop) {
		if (loop->reading) {
			loop->nidle++;
			pthread_cond_wait(&loop->idle_cv, &loop->lock);
			loop->nidle--;
			continue;
		}
		loop->reading = true;
		w->reader = true;
		pthread_mutex_unlock(&loop->lock);

		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		res = receive(loop, &w->buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (res > 0 && !fuse_session_exited(loop->fs)) {
			current_worker = w;
			fuse_session_process_buf(loop->fs, &w->buf);
			current_worker = NULL;
		}

		pthread_mutex_lock(&loop->lock);
		if (w->reader) {
			w->reader = false;
			loop->reading = false;
		}
		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0 || fuse_session_exited(loop->fs))
			loop_stop(loop, res < 0 && res != -ENODEV ? res : 0);
	}
	pthread_mutex_unlock(&loop->lock);
	return NULL;
}

int uvfs_fuse_serve(struct fuse_session *fs, unsigned int max_threads,
		    unsigned int spin_us)
{
	struct fuse_loop loop = {
		.fs = fs,
		.max_workers = max_threads ? max_threads : 1,
		.spin_ns = spin_us * 1000ull,
	};
	struct fuse_worker *w;
	int err;

	if (spin_us) {
		int fd = fuse_session_fd(fs);

		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	pthread_mutex_init(&loop.lock, NULL);
	pthread_cond_init(&loop.idle_cv, NULL);
	sem_init(&loop.finish, 0, 0);
	pthread_mutex_lock(&loop.lock);
	err = worker_start(&loop);
	pthread_mutex_unlock(&loop.lock);
	/* signals interrupt sem_wait() (libfuse's handlers: no SA_RESTART) */
	while (!err && !fuse_session_exited(fs)) {
		pthread_mutex_lock(&loop.lock);
		if (loop.stop) {
			pthread_mutex_unlock(&loop.lock);
			break;
		}
		pthread_mutex_unlock(&loop.lock);
		sem_wait(&loop.finish);
	}
	pthread_mutex_lock(&loop.lock);
	loop_stop(&loop, err);
	err = loop.err;
	pthread_mutex_unlock(&loop.lock);
	/* the reader may be blocked in read(): the one cancellation point */
	for (w = loop.workers; w; w = w->next)
		pthread_cancel(w->thread);
	while ((w = loop.workers)) {
		pthread_join(w->thread, NULL);
		loop.workers = w->next;
		free(w->buf.mem);
		free(w);
	}
	sem_destroy(&loop.finish);
	pthread_cond_destroy(&loop.idle_cv);
	pthread_mutex_destroy(&loop.lock);
	return err;
}
