/*
 * loop.h - the one event loop of the daemon: poll() over file descriptors
 * with callbacks, one-shot timers, signals through a signalfd, and "after"
 * hooks that run once per iteration when every ready descriptor has been
 * served (the LMTP group commit runs there).
 *
 * Callbacks may add and remove descriptors and timers, and stop the loop.
 * Functions return 0 / -1 (logged) unless documented otherwise.
 */
#ifndef MLMD_LOOP_H
#define MLMD_LOOP_H

struct loop;

typedef void loop_fd_fn(struct loop *l, int fd, short revents, void *arg);
typedef void loop_fn(struct loop *l, void *arg);
typedef void loop_signal_fn(struct loop *l, int signo, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watch fd for events (POLLIN/POLLOUT); one callback per fd. */
int loop_add_fd(struct loop *l, int fd, short events, loop_fd_fn *fn,
                void *arg);
/* Change the events watched on fd. */
void loop_set_events(struct loop *l, int fd, short events);
/* Stop watching fd (does not close it). */
void loop_del_fd(struct loop *l, int fd);

/* Call fn once after ms milliseconds; returns a timer id (> 0) or -1. */
int loop_add_timer(struct loop *l, long ms, loop_fn *fn, void *arg);
void loop_del_timer(struct loop *l, int id);

/* Block signo and deliver it through the loop's signalfd. */
int loop_add_signal(struct loop *l, int signo, loop_signal_fn *fn, void *arg);

/* Call fn after each iteration's callbacks: once the due timers have run
 * (when any did) and again once the ready descriptors have been served. */
int loop_add_after(struct loop *l, loop_fn *fn, void *arg);

/* Run until loop_stop(); 0, or -1 if poll() fails. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* Milliseconds of CLOCK_MONOTONIC. */
long long loop_now_ms(void);

#endif
