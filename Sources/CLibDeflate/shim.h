#ifndef RETORT_CLIBDEFLATE_SHIM_H
#define RETORT_CLIBDEFLATE_SHIM_H
#include <libdeflate.h>
#endif
