/*
 * report_mail.h - the monthly participation report by mail (report_to).
 */
#ifndef MLMD_REPORT_MAIL_H
#define MLMD_REPORT_MAIL_H

#include <time.h>

struct conf;
struct db;

/* If report_to names a list and the previous month's report has not gone
 * yet (and it is the 1st, 06:00 UTC or later): send it.  Copies queued,
 * 0 if nothing was due, -1. */
long report_monthly(const struct conf *c, struct db *db, time_t now);

#endif
