/*
 * out_pipe.h - mlmd's own pipelining SMTP client (out_pipe.c), the
 * backend of out_smtp.h for plain smtp:// relays.  Same contract as
 * out_smtp_new/free/send/pending; out_smtp.c chooses the backend.
 */
#ifndef MLMD_OUT_PIPE_H
#define MLMD_OUT_PIPE_H

#include <stddef.h>

#include "out_smtp.h"

struct out_pipe;

struct out_pipe *out_pipe_new(struct loop *l, const struct out_smtp_opts *o);
void out_pipe_free(struct out_pipe *o);
int out_pipe_send(struct out_pipe *o, const char *from,
		  const char *const *rcpts, size_t n, const char *data,
		  size_t len, out_smtp_done_fn *fn, void *arg);
size_t out_pipe_pending(const struct out_pipe *o);

#endif
