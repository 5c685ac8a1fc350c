/* SPDX-License-Identifier: MIT */
/* An image version's files by role (store.h struct image_rec): which roles a kind has is
 * the kind table's business, so the record keeps any set of them, in the order added. */
#include <stdio.h>
#include <string.h>

#include "store/store.h"

const struct image_file *
image_rec_file(const struct image_rec *i, const char *role)
{
	for (unsigned k = 0; k < i->n_files; k++)
		if (strcmp(i->files[k].role, role) == 0)
			return &i->files[k];
	return NULL;
}

const char *
image_rec_sha256(const struct image_rec *i, const char *role)
{
	const struct image_file *f = image_rec_file(i, role);
	return f ? f->sha256 : "";
}

int
image_rec_file_set(struct image_rec *i, const char *role, const char *sha256, uint64_t size)
{
	struct image_file *f = (struct image_file *)image_rec_file(i, role);

	if (!role[0] || strlen(role) >= MAX_ROLE_NAME)
		return -EINVAL;
	if (!f) {
		if (i->n_files >= MAX_IMAGE_FILES)
			return -E2BIG;
		f = &i->files[i->n_files++];
		strcpy(f->role, role);
	}
	(void)snprintf(f->sha256, sizeof(f->sha256), "%s", sha256);
	f->size = size;
	return 0;
}
