/*
 * out_maildir.c - delivery into per-recipient maildirs (see out_maildir.h).
 *
 * The maildir protocol: write into tmp/ under a unique name, fsync, then
 * rename into new/; a reader never sees a partial file.  Unique names are
 * "<seconds>.M<microseconds>P<pid>R<random>.<host>"; the file is created
 * with O_EXCL, so even a clash could never overwrite a message.
 *
 * Called by the outbound queue (out.c) when relay = "maildir:PATH".
 * Errors are returned (with err filled), never fatal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#include "out_maildir.h"
#include "util.h"

static int
safe_name(const char *rcpt)
{
	const unsigned char *p = (const unsigned char *)rcpt;

	if (!*p || *p == '.' || !strchr(rcpt, '@') || strlen(rcpt) > 320)
		return 0;
	for (; *p; p++)
		if (*p < 0x21 || *p == 0x7f || *p == '/' || *p == '\\')
			return 0;
	return 1;
}

int
out_maildir_deliver(const char *root, const char *sender, const char *rcpt,
		    const char *data, size_t len, int *permanent,
		    struct buf *err)
{
	unsigned rnd = 0;
	struct buf dir = BUF_INIT, tmp = BUF_INIT, dst = BUF_INIT;
	struct buf body = BUF_INIT;
	char host[256] = "localhost";
	struct timeval tv;
	const char *sub[] = {"tmp", "new", "cur"};
	size_t i;
	int fd = -1, rc = -1;

	*permanent = 0;
	if (!safe_name(rcpt)) {
		*permanent = 1;
		buf_printf(err, "refusing maildir delivery to unsafe address");
		return -1;
	}
	buf_printf(&dir, "%s/%s", root, rcpt);
	for (i = 0; i < ARRAY_SIZE(sub); i++) {
		buf_reset(&tmp);
		buf_printf(&tmp, "%s/%s", buf_str(&dir), sub[i]);
		if (mkdir_p(buf_str(&tmp), 0755) < 0) {
			buf_printf(err, "mkdir %s: %s", buf_str(&tmp),
				   strerror(errno));
			goto out;
		}
	}
	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, "/:")] = '\0';
	gettimeofday(&tv, NULL);
	if (getrandom(&rnd, sizeof(rnd), 0) < 0)
		rnd = (unsigned)tv.tv_usec;
	buf_reset(&tmp);
	buf_printf(&tmp, "%s/tmp/%lld.M%ldP%ldR%08x.%s", buf_str(&dir),
		   (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		   rnd, host);
	buf_printf(&dst, "%s/new/%s", buf_str(&dir),
		   strrchr(buf_str(&tmp), '/') + 1);

	buf_printf(&body, "Return-Path: <%s>\nDelivered-To: %s\n", sender,
		   rcpt);
	/* CRLF to LF: maildirs hold local (LF) line ends. */
	for (i = 0; i < len; i++)
		if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
			if (buf_addc(&body, data[i]) < 0)
				break;
	if (i < len) {
		buf_printf(err, "message too large for a buffer");
		goto out;
	}
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, body.s, body.len) < 0 || fsync(fd) < 0) {
		buf_printf(err, "write %s: %s", buf_str(&tmp), strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		buf_printf(err, "close %s: %s", buf_str(&tmp), strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(buf_str(&tmp), buf_str(&dst)) < 0) {
		buf_printf(err, "rename into new/: %s", strerror(errno));
		goto out;
	}
	buf_reset(&tmp);
	buf_printf(&tmp, "%s/new", buf_str(&dir));
	if (fsync_dir(buf_str(&tmp)) < 0) {
		buf_printf(err, "fsync %s: %s", buf_str(&tmp), strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(buf_str(&tmp));
	}
	buf_free(&dir);
	buf_free(&tmp);
	buf_free(&dst);
	buf_free(&body);
	return rc;
}
