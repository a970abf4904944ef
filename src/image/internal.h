/*
 * internal.h - what image.c shares with image_io.c.
 */
#ifndef SOS_IMAGE_INTERNAL_H
#define SOS_IMAGE_INTERNAL_H

#include "sos/image.h"

/* sos_image_encode with the reason for an error written to err (errlen
 * bytes; err may be NULL). */
int sos__image_encode(struct sos_image *img, uint8_t **out, size_t *len,
                      char *err, size_t errlen);

/* Whether s is an image id: exactly 64 lowercase hex digits. */
int sos__image_is_id(const char *s);

#endif
