#ifndef VRM_CSODIUM_SHIM_H
#define VRM_CSODIUM_SHIM_H
#include <sodium.h>
#endif
