/*
 * err.c - the one table of SOS error codes (see include/sos/base.h).
 */
#include "sos/base.h"

const char *sos_strerror(int rc) {
  switch (rc) {
  case 0: return "success";
#define SOS__ERR_MSG(name, val, msg) case val: return msg;
    SOS_ERRNO_MAP(SOS__ERR_MSG)
#undef SOS__ERR_MSG
  }
  return "unknown error";
}

const char *sos_err_name(int rc) {
  switch (rc) {
  case 0: return "SOS_OK";
#define SOS__ERR_NAME(name, val, msg) case val: return "SOS_" #name;
    SOS_ERRNO_MAP(SOS__ERR_NAME)
#undef SOS__ERR_NAME
  }
  return "SOS_EUNKNOWN";
}
