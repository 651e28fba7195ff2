#include "vigil_kernels.h"
#include <stdlib.h>
#include <string.h>

vigil_kernel_variant vigil_kernel_selected(void) {
    // Only the generic variant exists so far; VIGIL_KERNEL is honoured once there is a choice.
    return VIGIL_KERNEL_GENERIC;
}

const char *vigil_kernel_name(vigil_kernel_variant v) {
    switch (v) {
    case VIGIL_KERNEL_GENERIC: return "generic";
    }
    return "unknown";
}
