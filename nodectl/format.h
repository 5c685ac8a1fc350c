/* SPDX-License-Identifier: MIT */
/* Turning values of the daemon's JSON results into short text for tables and
 * "key: value" views. Every function takes a borrowed json_t that may be NULL or of the
 * wrong type and then returns NULL, which tables print as "-". */
#pragma once

#include <jansson.h>
#include <stdio.h>
#include <time.h>

/* Room for any formatted value of these functions. */
#define FORMAT_BUF 64
/* Room for a combined "key: value" value such as "<time> (<age> ago)". */
#define FORMAT_KV_BUF (2 * FORMAT_BUF + 16)

/* A string (returned borrowed from v), integer, real or boolean ("yes"/"no") as text. */
const char *format_scalar(const json_t *v, char buf[static FORMAT_BUF]);

/* Unix seconds as UTC ISO 8601 "2024-05-01T12:00:03Z"; a string passes through; 0 (and
 * anything before it) means "never" and gives NULL. */
const char *format_time(const json_t *v, char buf[static FORMAT_BUF]);

/* Time since Unix seconds v: "42s", "17m", "5h", "12d" (a time ahead of now is "0s";
 * 0 is "never": NULL). */
const char *format_age(const json_t *v, time_t now, char buf[static FORMAT_BUF]);

/* A byte count in IEC units: "512B", "1.5K", "3.2G". */
const char *format_size(const json_t *v, char buf[static FORMAT_BUF]);

/* Print "key:  value" lines, keys padded to the widest; a NULL value prints "-".
 * Values are sanitised like table cells. Returns 0 or -EIO/-ENOMEM. */
struct format_kv {
	const char *key;
	const char *value;
};
int format_kv_print(FILE *out, const struct format_kv *kv, size_t n);
